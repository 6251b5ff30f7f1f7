using System.Text;
using SecureMigration.Identity;
using SecureMigration.Sanitization;
using SecureMigration.Storage;
using SecureMigration.Threading;

namespace SecureMigration.Coordination.Residues;

/// <summary>
/// Disposes of migration residue by overwriting it with the <see cref="BlockSanitizer"/> before deleting it: the
/// source's old image and snapshot after a commit, the destination's partial image after a rollback. A wipe that
/// fails verification keeps the file and throws, so the residue is retried rather than silently left readable.
/// </summary>
public sealed class SanitizingResidueHandler : IResidueHandler, ICredentialRotation
{
    private readonly BlockSanitizer _sanitizer;
    private readonly SanitizationMethod _method;
    private volatile X509ChannelCredentials? _signer;
    private readonly string? _certificateDirectory;

    /// <summary>Creates a handler.</summary>
    /// <param name="sanitizer">The sanitizer.</param>
    /// <param name="method">The method for every residue.</param>
    public SanitizingResidueHandler(BlockSanitizer sanitizer, SanitizationMethod method = SanitizationMethod.NistClear)
    {
        _sanitizer = sanitizer ?? throw new ArgumentNullException(nameof(sanitizer));
        _method = method;
    }

    /// <summary>Creates a handler that also writes a signed certificate of sanitization for every file it wipes.</summary>
    /// <param name="sanitizer">The sanitizer.</param>
    /// <param name="method">The method for every residue.</param>
    /// <param name="signer">This host's credentials, whose key signs the certificates.</param>
    /// <param name="certificateDirectory">Where the certificates go, as <c>MIGRATION-ID.KIND.FILE.cert.json</c>.</param>
    public SanitizingResidueHandler(BlockSanitizer sanitizer, SanitizationMethod method, X509ChannelCredentials signer,
        string certificateDirectory)
        : this(sanitizer, method)
    {
        _signer = signer ?? throw new ArgumentNullException(nameof(signer));
        ArgumentException.ThrowIfNullOrEmpty(certificateDirectory);
        _certificateDirectory = Path.GetFullPath(certificateDirectory);
    }

    /// <inheritdoc />
    /// <remarks>A handler that signs its certificates takes renewed certificates; one that writes none has nothing to rotate.</remarks>
    public void RotateCredentials(ChannelCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        if (_signer is not null)
        {
            _signer = credentials as X509ChannelCredentials ?? throw new ArgumentException("This handler signs certificates of " +
                $"sanitization with a certificate; {credentials.GetType().Name} cannot replace it.", nameof(credentials));
        }
    }

    /// <inheritdoc />
    public async ValueTask<ResidueOutcome> HandleAsync(Residue residue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(residue);
        await ThreadPoolHop.IfNeeded();
        string[] files = File.Exists(residue.Path) ? [residue.Path]
            : Directory.Exists(residue.Path) ? Directory.GetFiles(residue.Path, "*", SearchOption.AllDirectories)
            : [];

        // Each file's identity as found: a file swapped in under its name later is neither wiped nor deleted.
        var identities = files.ToDictionary(file => file, file => Posix.IdentityOf(file), StringComparer.Ordinal);
        if (files.Length == 0 && !Directory.Exists(residue.Path))
        {
            return new ResidueOutcome("already-gone", 0);
        }

        long bytes = 0;
        var caveats = new HashSet<string>();
        var certificates = new List<string>();
        foreach (string file in files)
        {
            SanitizationReport report = await _sanitizer.SanitizeFileAsync(file, identities[file], _method,
                cancellationToken).ConfigureAwait(false);
            if (!report.Succeeded)
            {
                throw new IOException($"Sanitizing '{file}' with {_method} did not succeed " +
                    $"({(report.MismatchOffset is { } at ? $"verification failed at byte {at}" : "it was interrupted")}); the file is " +
                        $"kept for another attempt.");
            }

            bytes += report.TargetSize;
            caveats.UnionWith(report.Caveats.Skip(1));
            if (_signer is not null)
            {
                certificates.Add(await WriteCertificateAsync(residue, file, report, cancellationToken).ConfigureAwait(false));
            }

            NoFollowFile.Delete(file, identities[file]);
        }

        if (Directory.Exists(residue.Path))
        {
            Directory.Delete(residue.Path, recursive: true);
        }

        string detail = $"{_method}, verified" + (caveats.Count == 0 ? string.Empty : "; " + string.Join(" ", caveats)) +
            (certificates.Count == 0 ? string.Empty : "; certificate " + string.Join(", ", certificates));
        return new ResidueOutcome("sanitized", bytes, detail);
    }

    private async ValueTask<string> WriteCertificateAsync(Residue residue, string file, SanitizationReport report,
        CancellationToken cancellationToken)
    {
        X509ChannelCredentials signer = _signer!;
        string signed = SanitizationCertificates.Sign(SanitizationCertificate.From(report, signer.LocalIdentity), signer);
        Directory.CreateDirectory(_certificateDirectory!);
        string path = Path.Combine(_certificateDirectory!, $"{residue.MigrationId:N}.{residue.Kind}.{Path.GetFileName(file)}.cert.json");
        await DurableFile.WriteAtomicallyAsync(path, Encoding.UTF8.GetBytes(signed), cancellationToken).ConfigureAwait(false);
        return path;
    }
}
