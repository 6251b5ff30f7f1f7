using System.Diagnostics;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>Runs the openssl command line for tests.</summary>
public static class OpenSsl
{
    public static string Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(ExternalProgram.Require("openssl"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        string output = stdout.Result + stderr.Result;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{output}");
        }

        return output;
    }

    /// <summary>Generates a key (PKCS#8, or the traditional format) and a self-signed certificate with a DNS SAN.</summary>
    public static void SelfSigned(string algorithm, bool traditional, string keyPath, string certificatePath, string name)
    {
        string[] parts = algorithm.Split(':');
        string pkcs8Path = keyPath + ".p8";
        if (parts[0] == "EC")
        {
            Run("genpkey", "-algorithm", "EC", "-pkeyopt", $"ec_paramgen_curve:{parts[1]}", "-out", pkcs8Path);
        }
        else if (parts[0] == "RSA")
        {
            Run("genpkey", "-algorithm", "RSA", "-pkeyopt", $"rsa_keygen_bits:{parts[1]}", "-out", pkcs8Path);
        }
        else
        {
            Run("genpkey", "-algorithm", parts[0], "-out", pkcs8Path);
        }

        if (traditional)
        {
            // 'openssl ec' writes the traditional 'EC PRIVATE KEY' by default; 'openssl rsa' needs -traditional.
            Run(parts[0] == "EC" ? ["ec", "-in", pkcs8Path, "-out", keyPath] : ["rsa", "-in", pkcs8Path, "-out", keyPath, "-traditional"]);
        }
        else
        {
            File.Copy(pkcs8Path, keyPath, overwrite: true);
        }

        Run("req", "-x509", "-new", "-key", keyPath, "-out", certificatePath, "-days", "2", "-subj", $"/CN={name}",
            "-addext", $"subjectAltName=DNS:{name}", "-addext", "basicConstraints=critical,CA:TRUE");
    }

    /// <summary>Creates a CA and a host certificate signed by it (SAN DNS, serverAuth + clientAuth), all with openssl.</summary>
    public static void CaAndHost(string algorithm, string directory, string caName, string hostName)
    {
        string Path(string name) => System.IO.Path.Combine(directory, name);
        Run("genpkey", "-algorithm", algorithm, "-out", Path($"{caName}.key"));
        Run("req", "-x509", "-new", "-key", Path($"{caName}.key"), "-out", Path($"{caName}.pem"), "-days", "2", "-subj", $"/CN={caName}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        Run("genpkey", "-algorithm", algorithm, "-out", Path($"{hostName}.key"));
        Run("req", "-new", "-key", Path($"{hostName}.key"), "-out", Path($"{hostName}.csr"), "-subj", $"/CN={hostName}");
        File.WriteAllText(Path($"{hostName}.ext"),
            $"subjectAltName=DNS:{hostName}\nkeyUsage=critical,digitalSignature\n" +
            "extendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n");
        Run("x509", "-req", "-in", Path($"{hostName}.csr"), "-CA", Path($"{caName}.pem"), "-CAkey", Path($"{caName}.key"),
            "-CAcreateserial",
            "-out", Path($"{hostName}.pem"), "-days", "1", "-extfile", Path($"{hostName}.ext"));
    }
}
