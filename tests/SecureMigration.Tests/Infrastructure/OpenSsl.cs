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
}
