using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using SecureMigration.Cli.Terminal;
using SecureMigration.Testing.Pki;

namespace SecureMigration.Cli.Commands;

internal static class PkiCommand
{
    private const string CaCertificateFile = "ca.pem";
    private const string CaKeyFile = "ca.key";

    public static Command Create()
    {
        var pki = new Command("pki", "Creates a CA, host certificates and pre-shared keys in PEM, as openssl writes them.");
        pki.Subcommands.Add(Init());
        pki.Subcommands.Add(Issue());
        pki.Subcommands.Add(Psk());
        return pki;
    }

    private static Command Init()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for ca.pem and ca.key.", Required = true };
        var name = new Option<string>("--name") { Description = "The CA's common name.", DefaultValueFactory = _ => "SecureMigration CA" };
        var command = new Command("init", """
            Creates a certificate authority: ca.pem (give it to every host as --ca) and ca.key (keep it offline).

            Example:
              secmig pki init --out ./ca
            """)
        { output, name };
        command.SetAction(parse =>
        {
            DirectoryInfo directory = parse.GetValue(output)!;
            if (File.Exists(Path.Combine(directory.FullName, CaKeyFile)))
            {
                Console.Error.WriteLine($"secmig: {Path.Combine(directory.FullName, CaKeyFile)} exists; refusing to overwrite a CA key. " +
                    $"Choose another --out.");
                return ExitCodes.InvalidInput;
            }

            using CertificateAuthority ca = CertificateAuthority.Create(parse.GetValue(name)!);
            ca.Export().WriteTo(directory.FullName, CaCertificateFile, CaKeyFile);
            Console.WriteLine($"CA written to {directory.FullName}: {CaCertificateFile} (trust bundle), {CaKeyFile} (secret).");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Issue()
    {
        var caDirectory = new Option<DirectoryInfo>("--ca") { Description = "The CA directory written by 'secmig pki init'.",
            Required = true };
        var host = new Option<string>("--name") { Description = "The host's DNS name (SAN and CN).", Required = true };
        var ips = new Option<string[]>("--ip") { Description = "An IP address SAN; repeat for several.",
            AllowMultipleArgumentsPerToken = false };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for cert.pem and key.pem.", Required = true };
        var days = new Option<int>("--days") { Description = "Validity in days.", DefaultValueFactory = _ => 365 };
        var replaceKey = new Option<bool>("--replace-key")
        {
            Description = "Replace an existing key.pem: renew the certificate with a new key. The journal and audit log stay readable " +
                "(they use WORK/host.key).",
        };
        var command = new Command("issue", """
            Issues a host certificate usable as TLS client and server (serverAuth + clientAuth), ECDSA P-256. An existing
            key.pem is never overwritten unless --replace-key says so (renewal; restart the host's secmig processes after).

            Example:
              secmig pki issue --ca ./ca --name dst.example --ip 10.0.0.2 --out ./dst
              secmig pki issue --ca ./ca --name dst.example --ip 10.0.0.2 --out ./dst --replace-key   # renewal
            """)
        { caDirectory, host, ips, output, days, replaceKey };
        command.SetAction(parse =>
        {
            string ca = parse.GetValue(caDirectory)!.FullName;
            string caCertificate = Path.Combine(ca, CaCertificateFile);
            string caKey = Path.Combine(ca, CaKeyFile);
            if (!File.Exists(caCertificate) || !File.Exists(caKey))
            {
                Console.Error.WriteLine($"secmig: {ca} holds no {CaCertificateFile} and {CaKeyFile}. Create a CA with 'secmig pki init " +
                    $"--out {ca}'.");
                return ExitCodes.InvalidInput;
            }

            var addresses = new List<IPAddress>();
            foreach (string text in parse.GetValue(ips) ?? [])
            {
                if (!IPAddress.TryParse(text, out IPAddress? address))
                {
                    Console.Error.WriteLine($"secmig: --ip '{text}' is not an IP address.");
                    return ExitCodes.InvalidInput;
                }

                addresses.Add(address);
            }

            using CertificateAuthority authority = CertificateAuthority.Load(File.ReadAllText(caCertificate), File.ReadAllText(caKey));
            DateTimeOffset now = DateTimeOffset.UtcNow;
            IssuedCredential issued = authority.IssueHost(parse.GetValue(host)!, now.AddHours(-1), now.AddDays(parse.GetValue(days)),
                addresses);
            string directory = parse.GetValue(output)!.FullName;
            try
            {
                issued.WriteTo(directory, replaceKey: parse.GetValue(replaceKey));
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"secmig: {e.Message}");
                return ExitCodes.InvalidInput;
            }

            Console.WriteLine($"Certificate for {parse.GetValue(host)} written to {directory}: cert.pem, key.pem.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Psk()
    {
        var output = new Option<FileInfo>("--out")
        {
            Description = "With --identity: the directory of keyrings (HOST.keys each); without: one shared key file (hex). " +
                "Owner-readable only.",
            Required = true,
        };
        var identities = new Option<string[]>("--identity")
        {
            Description = "A host of the cluster; repeat for several. Every pair of hosts gets its own key, in both hosts' keyrings; " +
                "hosts already in --out are kept and paired with the new ones.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("psk", """
            Creates pre-shared keys. With --identity: PSK keyrings, one file per host (HOST.keys, identity:hexkey lines,
            as QEMU's tls-creds-psk keys file), with a key of its own for every pair of hosts, so a host proves its
            name as a certificate would, and a key under the host's own name that seals its ownership records; copy
            each host's file to it and run with --psk-keyring FILE --local-name HOST.
            Without --identity: one 32-byte key as hex (the format openssl s_server -psk takes) for the whole cluster,
            used with --shared-psk: every holder can then impersonate every host.

            Example:
              secmig pki psk --out ./keyrings --identity src.example --identity dst.example
              secmig pki psk --out ./keyrings --identity new.example     # adds new.example's pairs
              secmig pki psk --out ./cluster.psk                         # one shared key
            """)
        { output, identities };
        command.SetAction(async parse =>
        {
            FileInfo file = parse.GetValue(output)!;
            string[] hosts = parse.GetValue(identities) ?? [];
            if (hosts.Length > 0)
            {
                int added = await PskKeyrings.AddAsync(file.FullName, hosts);
                Console.WriteLine($"PSK keyrings in {file.FullName}: {added} new pair{(added == 1 ? string.Empty : "s")} of hosts.");
                return ExitCodes.Success;
            }

            return WriteSharedKey(file);
        });
        return command;
    }

    private static int WriteSharedKey(FileInfo file)
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        try
        {
            file.Directory?.Create();
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var writer = new StreamWriter(file.FullName, options);
            writer.WriteLine(Convert.ToHexStringLower(key));
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"secmig: cannot write {file.FullName}: {e.Message} (an existing key is never overwritten).");
            return ExitCodes.InvalidInput;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        Console.WriteLine($"Pre-shared key written to {file.FullName} ({Units.Bytes(32)}); every host that holds it can claim to be any " +
            $"host (--shared-psk).");
        return ExitCodes.Success;
    }
}
