using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>
/// A running agent takes renewed certificates, keys, allow-lists and hooks without a restart (issue 19): on SIGHUP and when a watched
/// file changes. What it presents is read from the wire with <c>openssl s_client</c>, a client of its own.
/// </summary>
public sealed partial class AgentReloadTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public AgentReloadTests()
    {
        Secmig.RunAsync("pki", "init", "--out", _dir.File("ca")).GetAwaiter().GetResult();
        foreach ((string name, string folder) in new[] { ("dst.test", "dst"), ("src.test", "src"), ("dst.test", "renewed"),
            ("other.test", "other") })
        {
            Secmig.RunAsync("pki", "issue", "--ca", _dir.File("ca"), "--name", name, "--out", _dir.File(folder)).GetAwaiter().GetResult();
        }

        Directory.CreateDirectory(_dir.File("live"));
        Directory.CreateDirectory(_dir.File("hooks/pre-migrate"));
        Install("dst");
    }

    [RequiresProgramFact("openssl")]
    public async Task SigHup_NewHandshakesPresentTheRenewedCertificate_AndBadOrForeignFilesAreRefusedWithTheOldKept()
    {
        await using ExternalProcess agent = StartAgent();
        IPEndPoint served = await ListeningAsync(agent);
        string first = await PresentedSerialAsync(served);

        Install("renewed");
        string hook = _dir.File("hooks/pre-migrate/10-maintenance");
        await File.WriteAllTextAsync(hook, "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await agent.SignalAsync("HUP");
        string reloaded = await LineAfterSigHupAsync(agent, "reloaded", 1);
        string renewed = await PresentedSerialAsync(served);

        await WriteAtomicallyAsync(_dir.File("live/key.pem"), "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
        await agent.SignalAsync("HUP");
        string badKey = await LineAfterSigHupAsync(agent, "reload refused", 1);
        string afterBadKey = await PresentedSerialAsync(served);

        Install("other");
        await agent.SignalAsync("HUP");
        string foreign = await LineAfterSigHupAsync(agent, "reload refused", 2);
        string afterForeign = await PresentedSerialAsync(served);

        Assert.Equal(SerialOf("dst"), first);
        Assert.Equal(SerialOf("renewed"), renewed);
        Assert.NotEqual(first, renewed);
        Assert.Contains("certificate of dst.test", reloaded, StringComparison.Ordinal);
        Assert.EndsWith("1 allowed peers, 0 pins, 0 CRLs; 1 hook", reloaded, StringComparison.Ordinal);
        Assert.EndsWith("The credentials in use stay.", badKey, StringComparison.Ordinal);
        Assert.Equal(renewed, afterBadKey);
        Assert.Contains("'other.test', but it is 'dst.test'", foreign, StringComparison.Ordinal);
        Assert.Equal(renewed, afterForeign);
        Assert.False(agent.HasExited, "a hang-up reloads; it never ends the agent");
    }

    [RequiresProgramFact("openssl")]
    public async Task CertificateFilesReplaced_AreTakenWithoutASignal()
    {
        await using ExternalProcess agent = StartAgent();
        IPEndPoint served = await ListeningAsync(agent);

        Install("renewed");
        // One reload for both files, or (when they changed more than the quiet period apart) a refused one for the certificate alone
        // and then the one for the pair.
        await agent.WaitUntilAsync(output => Lines(output).Any(line => line.StartsWith("reloaded (", StringComparison.Ordinal) &&
            line.Contains("/live/", StringComparison.Ordinal)), "a reload for the changed certificate");

        Assert.Equal(SerialOf("renewed"), await PresentedSerialAsync(served));
    }

    public void Dispose() => _dir.Dispose();

    private ExternalProcess StartAgent() => Secmig.Start("agent", "--listen", "127.0.0.1:0", "--vm", "vm1=/run/none-1.qmp", "--work",
        _dir.File("work"), "--registry", _dir.File("registry"), "--cert", _dir.File("live/cert.pem"), "--key", _dir.File("live/key.pem"),
        "--ca", _dir.File("ca/ca.pem"), "--allow-peer", "src.test", "--hooks", _dir.File("hooks"));

    private static async Task<IPEndPoint> ListeningAsync(ExternalProcess agent)
    {
        string rest = await agent.WaitForAsync("listening ");
        return IPEndPoint.Parse(rest[..rest.IndexOf(' ', StringComparison.Ordinal)]);
    }

    /// <summary>Puts a host's certificate and key where the agent reads them, each replaced in one rename, as a renewal tool does.
    /// </summary>
    private void Install(string folder)
    {
        foreach (string file in new[] { "cert.pem", "key.pem" })
        {
            WriteAtomicallyAsync(_dir.File($"live/{file}"), File.ReadAllText(_dir.File($"{folder}/{file}"))).GetAwaiter().GetResult();
        }
    }

    private static async Task WriteAtomicallyAsync(string path, string contents)
    {
        await File.WriteAllTextAsync(path + ".new", contents);
        File.SetUnixFileMode(path + ".new", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(path + ".new", path, overwrite: true);
    }

    private string SerialOf(string folder) => X509Certificate2.CreateFromPem(File.ReadAllText(_dir.File($"{folder}/cert.pem"))).SerialNumber;

    /// <summary>The serial number of the certificate the agent presents to a new client now.</summary>
    private async Task<string> PresentedSerialAsync(IPEndPoint agent)
    {
        (_, string output) = await ProcessRunner.RunAsync("sh", ["-c", $"openssl s_client -connect {agent} -tls1_3 -cert " +
            $"'{_dir.File("src/cert.pem")}' -key '{_dir.File("src/key.pem")}' -CAfile '{_dir.File("ca/ca.pem")}' </dev/null 2>&1"],
            TimeSpan.FromSeconds(60));
        Match pem = CertificateBlock().Match(output);
        Assert.True(pem.Success, output);
        return X509Certificate2.CreateFromPem(pem.Value).SerialNumber;
    }

    /// <summary>Waits for the <paramref name="count"/>th line starting with <paramref name="outcome"/> that a SIGHUP asked for.
    /// </summary>
    private static async Task<string> LineAfterSigHupAsync(ExternalProcess agent, string outcome, int count)
    {
        bool Answered(string line) => line.StartsWith(outcome + " (", StringComparison.Ordinal) &&
            line[..line.IndexOf(')', StringComparison.Ordinal)].Contains("SIGHUP", StringComparison.Ordinal);
        string output = await agent.WaitUntilAsync(o => Lines(o).Count(Answered) >= count, $"{count} × '{outcome}' after SIGHUP");
        return Lines(output).Where(Answered).ElementAt(count - 1);
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.TrimEntries);

    [GeneratedRegex("-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----")]
    private static partial Regex CertificateBlock();
}
