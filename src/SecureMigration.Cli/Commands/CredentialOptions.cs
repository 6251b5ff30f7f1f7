using System.CommandLine;
using SecureMigration.Channel;
using SecureMigration.Identity;

namespace SecureMigration.Cli.Commands;

/// <summary>The credential options every networked command shares: X.509 files, a PSK keyring, or one shared PSK file.</summary>
internal sealed class CredentialOptions
{
    public Option<FileInfo> Certificate { get; } = new("--cert") { Description = "This host's certificate (PEM)." };

    public Option<FileInfo> Key { get; } = new("--key") { Description = "This host's private key (PEM, unencrypted)." };

    public Option<FileInfo> Ca { get; } = new("--ca") { Description = "The CA bundle trusted for peers (PEM)." };

    public Option<FileInfo[]> Crl { get; } = new("--crl")
    {
        Description = "A CRL of a trusted CA (PEM or DER, as 'openssl ca -gencrl' writes it); repeat for several. With any, every peer " +
            "certificate " +
            "must be covered by a current CRL of its issuer. Default: revocation is not checked.",
    };

    public Option<string[]> AllowPeer { get; } = new("--allow-peer") { Description = "A peer identity allowed to connect; repeat for " +
        "several. Default: any peer the CA vouches for." };

    public Option<string[]> PinSpki { get; } = new("--pin-spki") { Description = "A base64 SHA-256 SPKI pin the peer's key must match; " +
        "repeat for several." };

    public Option<FileInfo> PskKeyring { get; } = new("--psk-keyring")
    {
        Description = "A PSK keyring (identity:hexkey lines, one key per peer host, from 'secmig pki psk --identity'), instead of " +
            "certificates; this host's identity is --local-name.",
    };

    public Option<FileInfo> PskFile { get; } = new("--psk-file") { Description = "One pre-shared key (hex) that the whole cluster " +
        "shares; needs --shared-psk." };

    public Option<string> PskIdentity { get; } = new("--psk-identity") { Description = "The identity of the shared --psk-file, the same " +
        "on every host." };

    public Option<bool> SharedPsk { get; } = new("--shared-psk")
    {
        Description = "Use one --psk-file for the whole cluster. Every holder of that key can impersonate every host (pose as a VM's " +
            "owner or as a destination); prefer --psk-keyring or certificates.",
    };

    public Option<string> LocalName { get; } = new("--local-name") { Description = "This host's identity in tickets (required with " +
        "--psk-keyring). Default: the certificate's name, or the PSK identity." };

    /// <summary>What to give when no credential mode was given (one line).</summary>
    public const string Needed = "Give one of: --cert, --key and --ca; or --psk-keyring with --local-name; or --psk-file and " +
        "--psk-identity with --shared-psk (--local-name, --allow-peer, --crl and --pin-spki only qualify one of these)";

    /// <summary>Gets the options that choose a credential mode; the others (names, pins, CRLs) only qualify one.</summary>
    public IReadOnlyList<Option> Modes => [Certificate, Key, Ca, PskKeyring, PskFile, PskIdentity];

    /// <summary>Gets every credential option.</summary>
    public IReadOnlyList<Option> All => [Certificate, Key, Ca, Crl, AllowPeer, PinSpki, PskKeyring, PskFile, PskIdentity, SharedPsk,
        LocalName];

    /// <summary>Adds the options to <paramref name="command"/>, with a validator that takes exactly one credential mode.</summary>
    /// <param name="command">The command.</param>
    /// <param name="required">Whether a credential mode must be given; when not, none is fine too (the command asks where it needs
    /// one).</param>
    public void AddTo(Command command, bool required = true)
    {
        foreach (Option option in All)
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            bool x509 = result.GetResult(Certificate) is not null || result.GetResult(Key) is not null || result.GetResult(Ca) is not null;
            bool keyring = result.GetResult(PskKeyring) is not null;
            bool shared = result.GetResult(PskFile) is not null || result.GetResult(PskIdentity) is not null;
            int modes = (x509 ? 1 : 0) + (keyring ? 1 : 0) + (shared ? 1 : 0);
            if (modes == 0 && !required)
            {
                return;
            }

            if (modes != 1)
            {
                result.AddError(Needed + ".");
            }
            else if (x509 && (result.GetResult(Certificate) is null || result.GetResult(Key) is null || result.GetResult(Ca) is null))
            {
                result.AddError("Certificate mode needs all three of --cert, --key and --ca.");
            }
            else if (keyring && result.GetResult(LocalName) is null)
            {
                result.AddError("--psk-keyring needs --local-name: this host's identity, the name its peers' keyrings hold its keys " +
                    "under.");
            }
            else if (shared && (result.GetResult(PskFile) is null || result.GetResult(PskIdentity) is null))
            {
                result.AddError("Shared PSK mode needs both --psk-file and --psk-identity.");
            }
            else if (shared && result.GetResult(SharedPsk) is null)
            {
                result.AddError("--psk-file is one key for the whole cluster: every holder can impersonate every host. Pass --shared-psk " +
                    "to accept that, " +
                    "or give each pair of hosts its own key with --psk-keyring (secmig pki psk --identity).");
            }
            else if ((keyring || shared) && result.GetResult(Crl) is not null)
            {
                result.AddError("--crl applies to certificates; a pre-shared key has no CRL. Drop --crl or use --cert, --key and --ca.");
            }
            else if ((keyring || shared) && result.GetResult(PinSpki) is not null)
            {
                result.AddError("--pin-spki applies to certificates; a pre-shared key has no public key to pin. Name the peers with " +
                    "--allow-peer instead.");
            }
        });
    }

    /// <summary>Whether a credential mode was given (any of <see cref="Modes"/>).</summary>
    public bool AreGiven(ParseResult parse) => Modes.Any(option => parse.GetResult(option) is not null);

    /// <summary>Loads the credentials and peer policy; throws <see cref="InvalidCredentialsException"/> on a bad file.</summary>
    /// <exception cref="ArgumentException">No complete credential mode was given (a validator that let it through).</exception>
    public SecureChannelOptions Load(ParseResult parse)
    {
        ChannelCredentials credentials = (parse.GetValue(PskKeyring), parse.GetValue(PskFile)) switch
        {
            ({ } keyring, _) => PskKeyringCredentials.FromFile(keyring.FullName, parse.GetValue(LocalName)!),
            (_, { } pskFile) => PskChannelCredentials.FromHexFile(pskFile.FullName, parse.GetValue(PskIdentity)!),
            _ when (parse.GetValue(Certificate), parse.GetValue(Key), parse.GetValue(Ca)) is ({ } cert, { } key, { } ca) =>
                X509ChannelCredentials.FromPemFiles(cert.FullName, key.FullName, ca.FullName),
            _ => throw new ArgumentException(Needed + "."),
        };
        var options = new SecureChannelOptions { Credentials = credentials, LocalIdentity = parse.GetValue(LocalName) };
        foreach (string peer in parse.GetValue(AllowPeer) ?? [])
        {
            options.PeerPolicy.AllowedPeers.Add(peer);
        }

        foreach (string pin in parse.GetValue(PinSpki) ?? [])
        {
            options.PeerPolicy.SpkiPins.Add(pin);
        }

        foreach (FileInfo crl in parse.GetValue(Crl) ?? [])
        {
            foreach (CertificateRevocationList list in CertificateRevocationList.FromFile(crl.FullName))
            {
                options.PeerPolicy.RevocationLists.Add(list);
            }
        }

        return options;
    }
}
