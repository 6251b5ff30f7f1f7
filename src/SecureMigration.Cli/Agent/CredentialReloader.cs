using System.Security.Cryptography;
using System.Threading.Channels;
using SecureMigration.Channel;
using SecureMigration.Cli.Live;
using SecureMigration.Identity;
using SecureMigration.Text;

namespace SecureMigration.Cli.Agent;

/// <summary>
/// Reloads a running agent's credentials, peer policy and hooks without a restart (SIGHUP, a changed file): loads them anew from the
/// agent's command line and <c>--config</c>, and hands them to its host only when all of it loaded and passed the host's checks.
/// A bad new file is refused with one line saying why, and the credentials in use stay; migrations in flight keep their sessions.
/// Requests are served one at a time; those that arrive while one waits or runs are served together by one more reload, whose line
/// names every reason.
/// </summary>
/// <param name="load">Loads the credentials and peer policy as the command line and <c>--config</c> give them now.</param>
/// <param name="host">The host that takes them.</param>
/// <param name="say">Writes a line for the operator.</param>
internal sealed class CredentialReloader(Func<SecureChannelOptions> load, LiveHost host, Action<string> say)
{
    /// <summary>The most reasons one line names; more are counted.</summary>
    private const int MaxReasonsNamed = 4;

    private readonly Channel<bool> _wake = System.Threading.Channels.Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly List<string> _reasons = [];

    /// <summary>Asks for a reload; one already asked for and not yet begun serves this one too.</summary>
    /// <param name="reason">Why, for the operator's line: <c>SIGHUP</c> or the file that changed.</param>
    public void Request(string reason)
    {
        lock (_reasons)
        {
            if (!_reasons.Contains(reason))
            {
                _reasons.Add(reason);
            }
        }

        _wake.Writer.TryWrite(true);
    }

    /// <summary>Serves the requests until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (bool _ in _wake.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                string reasons;
                lock (_reasons)
                {
                    reasons = string.Join(", ", _reasons.Take(MaxReasonsNamed)) +
                        (_reasons.Count > MaxReasonsNamed ? $" and {_reasons.Count - MaxReasonsNamed} more" : string.Empty);
                    _reasons.Clear();
                }

                if (reasons.Length > 0)
                {
                    say(Reload(reasons));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The agent stops.
        }
    }

    /// <summary>Reloads now.</summary>
    /// <returns>The operator's line: what is in use from now on, or why the new files were refused.</returns>
    public string Reload(string reason)
    {
        try
        {
            SecureChannelOptions channel = load();
            int hooks = host.Reload(channel);
            return $"reloaded ({reason}): {Describe(channel)}; {hooks} hook{(hooks == 1 ? "" : "s")}";
        }
        catch (Exception e) when (e is ArgumentException or InvalidCredentialsException or IOException or UnauthorizedAccessException
            or FormatException or InvalidDataException or CryptographicException or InvalidOperationException)
        {
            return $"reload refused ({reason}): {UntrustedText.Bound(e.Message)} The credentials in use stay.";
        }
    }

    private static string Describe(SecureChannelOptions channel)
    {
        string credentials = channel.Credentials switch
        {
            X509ChannelCredentials x509 => $"certificate of {x509.LocalIdentity} (serial {x509.Chain[0].SerialNumber.ToString(16)}, " +
                $"until {x509.Chain[0].NotAfter:yyyy-MM-dd HH:mm} UTC)",
            PskKeyringCredentials keyring => $"PSK keyring of {keyring.LocalIdentity} with {keyring.Peers.Count} peers",
            { } other => $"pre-shared key of {other.LocalIdentity}",
            null => "no credentials",
        };
        return $"{credentials}, {channel.PeerPolicy.AllowedPeers.Count} allowed peers, {channel.PeerPolicy.SpkiPins.Count} pins, " +
            $"{channel.PeerPolicy.RevocationLists.Count} CRLs";
    }
}
