using SecureMigration.Cli.Commands;
using SecureMigration.Fuzz.Peer;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// The agent's configuration file (<c>secmig agent --config FILE</c>, <see cref="AgentConfiguration"/>). Input: the
/// file. Invariants: only the exceptions <c>secmig</c> reports as a usage error (<see cref="ArgumentException"/>,
/// <see cref="FileNotFoundException"/>, <see cref="InvalidDataException"/>, <see cref="FormatException"/>,
/// <see cref="InvalidOperationException"/>); the expanded command line keeps the given one in front and adds only
/// non-null tokens.
/// </summary>
internal sealed class AgentConfigTarget : FuzzTarget
{
    public override string Name => "agent-config";

    public override void Run(byte[] input)
    {
        string file = ScratchFolder.Fresh("agent.json");
        File.WriteAllBytes(file, input);
        string[] given = ["agent", "--config", file, "--verbose"];
        try
        {
            string[] expanded = AgentConfiguration.ExpandCommandLine(given);
            InvariantViolationException.Check(
                expanded.AsSpan(0, given.Length).SequenceEqual(given) && expanded.All(token => token is not null),
                "the configuration changed the given command line or added a null token");
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidDataException or FormatException
            or InvalidOperationException)
        {
            // secmig prints these as usage errors.
        }
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        yield return ("agent", """
            {
              "SecureMigration": {
                "Agent": {
                  "Listen": "0.0.0.0:7700",
                  "Vms": { "vm-7": "unix:/run/qemu/vm-7.qmp" },
                  "Work": "work",
                  "Registry": "/srv/registry",
                  "MemoryDirs": [ "/dev/shm" ],
                  "StallTimeout": 30,
                  "MaxHandshakes": 64,
                  "Cert": "host.pem", "Key": "host.key", "Ca": "ca.pem",
                  "AllowPeers": [ "source.test" ],
                  "Verbose": true
                }
              }
            }
            """u8.ToArray());
        yield return ("psk",
            """{ "SecureMigration": { "Agent": { "PskKeyring": "host.keys", "LocalName": "destination.test" } } }"""u8.ToArray());
    }
}
