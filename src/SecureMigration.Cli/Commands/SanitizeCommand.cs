using System.CommandLine;
using System.Text.Json;
using SecureMigration.Cli.Terminal;
using SecureMigration.Identity;
using SecureMigration.Sanitization;
using SecureMigration.Text;

namespace SecureMigration.Cli.Commands;

internal static class SanitizeCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "The file to overwrite (a VM image, a snapshot)." };
        var method = new Option<string>("--method") { Description = "zero, ones, random, nist-clear (one pass and verification), dod " +
            "(0x00, 0xFF, random) or gutmann (35 passes).", DefaultValueFactory = _ => "nist-clear" };
        method.AcceptOnlyFromAmong([.. SanitizationMethodNames.All.Keys]);
        var passes = new Option<string?>("--passes") { Description = "A custom list of passes instead of --method, separated by ';': hex " +
            "bytes or 'random', for example '00;ff;random' or '92,49,24;random'." };
        var verify = new Option<string>("--verify") { Description = "none, sample (first, last and 64 random blocks) or full.",
            DefaultValueFactory = _ => "full" };
        verify.AcceptOnlyFromAmong("none", "sample", "full");
        var extents = new Option<string?>("--extents") { Description = "A file of extents to overwrite instead of the whole file: one " +
            "'OFFSET LENGTH' per line, in bytes." };
        var blockKib = new Option<int>("--block-kib") { Description = "Size of one write in KiB (a multiple of 4).",
            DefaultValueFactory = _ => 1024 };
        var inFlight = new Option<int>("--in-flight") { Description = "Writes and verification reads in flight at once.",
            DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var force = new Option<bool>("--force") { Description = "Overwrite the file even when another process holds a lock on it (a " +
            "hypervisor running a VM from it): that VM is destroyed." };
        var clearSize = new Option<int?>("--clear-size")
        {
            Description = "Overwrite only the first MiB of PATH, this many (all of it when it is smaller), as OpenStack's " +
                "volume_clear_size does for a volume whose start holds its readable metadata.",
        };
        var allowBlockDevice = new Option<bool>("--allow-block-device") { Description = "Allow PATH to be a block device (the whole " +
            "device is overwritten); a device that is mounted (itself, a partition or a device stacked on it) or held exclusively is " +
                "refused even then." };
        var discard = new Option<bool>("--discard") { Description = "After the last pass verified, punch holes over the overwritten " +
            "ranges so the file system releases (and, where it can, discards) the blocks." };
        var secureDiscard = new Option<bool>("--secure-discard") { Description = "On a block device, after the last pass verified, ask " +
            "the device to erase the blocks and the copies it keeps (BLKSECDISCARD) instead of --discard's plain BLKDISCARD." };
        var zeroOffload = new Option<string>("--zero-offload") { Description = "auto: a block device that offers WRITE ZEROES (not a loop " +
            "device) zeroes the passes of zeros itself (BLKZEROOUT); never: write them; require: have the device zero them or " +
            "refuse (exit 2, nothing written).", DefaultValueFactory = _ => "auto" };
        zeroOffload.AcceptOnlyFromAmong("auto", "never", "require");
        var checkpointDir = new Option<string?>("--checkpoint-dir") { Description = "Where a block device's resume checkpoint is kept " +
            "(block-MAJOR-MINOR.secmig-wipe): default /var/lib/secmig/wipe for root, ~/.local/share/secmig/wipe otherwise; created " +
            "owner-only, refused when it is a symbolic link or others may write it. A file's checkpoint stays beside the file." };
        var certificate = new Option<FileInfo?>("--certificate") { Description = "Write a signed certificate of sanitization (NIST SP " +
            "800-88 Appendix G fields) to this file; needs --cert, --key and --ca." };
        var signerCertificate = new Option<FileInfo?>("--cert") { Description = "This host's certificate (PEM), to sign the certificate " +
            "of sanitization; with --key and --ca its key also authenticates the resume checkpoint." };
        var signerKey = new Option<FileInfo?>("--key") { Description = "This host's private key (PEM)." };
        var signerCa = new Option<FileInfo?>("--ca") { Description = "The CA bundle that vouches for this host (PEM)." };
        var command = new Command("sanitize", """
            Overwrites a file (or the extents listed in --extents) pass by pass, flushes every pass to disk, verifies
            the last pass reading past the page cache where the file system allows, and prints a report that says
            what the overwrite could not reach on this storage. A symbolic link (PATH or a directory on the way to it)
            is refused, and so is a block device unless --allow-block-device says so. With --cert, --key and --ca,
            progress is checkpointed in PATH.secmig-wipe (a block device's in --checkpoint-dir), authenticated with
            this host's key: run the same command again after a crash and it goes on where it stopped (without them,
            it starts over). Exit 0 when every pass
            completed and verified, 1 when verification failed, 2 for bad input (nothing was written), 130 when Ctrl-C
            or SIGTERM interrupted it.

            Examples:
              secmig sanitize old-vm.img
              secmig sanitize old-vm.img --method dod --verify sample --json
              secmig sanitize disk.img --extents freed.txt --passes '00;random'
              secmig sanitize /dev/vg0/volume-1 --allow-block-device --method zero --clear-size 100
              secmig sanitize /dev/sdb --allow-block-device --method zero --zero-offload require --secure-discard
              secmig sanitize old-vm.img --certificate old-vm.cert.json --cert host/cert.pem --key host/key.pem --ca ca/ca.pem
              secmig sanitize verify-cert old-vm.cert.json --ca ca/ca.pem
            """)
        { path, method, passes, verify, extents, clearSize, blockKib, inFlight, json, discard, secureDiscard, zeroOffload, force,
            allowBlockDevice, checkpointDir, certificate, signerCertificate, signerKey, signerCa };
        command.Subcommands.Add(VerifyCertificate());
        command.Validators.Add(result =>
        {
            bool wantsCertificate = result.GetResult(certificate) is not null;
            bool hasSigner = result.GetResult(signerCertificate) is not null && result.GetResult(signerKey) is not null &&
                result.GetResult(signerCa) is not null;
            if (wantsCertificate && !hasSigner)
            {
                result.AddError("--certificate needs --cert, --key and --ca to sign it with this host's key.");
            }

            if (result.GetResult(clearSize) is not null && result.GetResult(extents) is not null)
            {
                result.AddError("--clear-size and --extents both say what to overwrite: give one.");
            }
            else if (result.GetValue(clearSize) is <= 0)
            {
                result.AddError("--clear-size is in MiB and must be at least 1.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            // This host's key signs certificates and authenticates the resume checkpoint; without it a wipe cannot resume.
            X509ChannelCredentials? signer = parse.GetValue(signerCertificate) is { } certFile &&
                parse.GetValue(signerKey) is { } keyFile && parse.GetValue(signerCa) is { } caFile
                ? X509ChannelCredentials.FromPemFiles(certFile.FullName, keyFile.FullName, caFile.FullName)
                : null;
            using HostKey? hostKey = signer is null ? null : HostKey.FromCredentials(signer);
            var options = new SanitizerOptions
            {
                CheckpointKey = hostKey,
                BlockSize = parse.GetValue(blockKib) * 1024,
                WritesInFlight = parse.GetValue(inFlight),
                Verification = Enum.Parse<VerificationMode>(parse.GetValue(verify)!, ignoreCase: true),
                Discard = parse.GetValue(discard),
                SecureDiscard = parse.GetValue(secureDiscard),
                ZeroOffload = Enum.Parse<ZeroOffload>(parse.GetValue(zeroOffload)!, ignoreCase: true),
                Force = parse.GetValue(force),
                AllowBlockDevices = parse.GetValue(allowBlockDevice),
                ClearSize = parse.GetValue(clearSize) * 1024L * 1024,
                CheckpointDirectory = parse.GetValue(checkpointDir),
            };
            var sanitizer = new BlockSanitizer(options);
            IReadOnlyList<Extent>? ranges = parse.GetValue(extents) is { } file ? ExtentList.Parse(await ReadExtentsAsync(file,
                cancellationToken)) : null;
            ConsoleStyle style = parse.GetValue(json) ? new ConsoleStyle(Console.Error, !Console.IsErrorRedirected,
                false) : ConsoleStyle.Standard;
            var display = new WipeDisplay(style);
            SanitizationReport report;
            string target = parse.GetValue(path)!;
            if (parse.GetValue(passes) is { } custom)
            {
                SanitizationPass[] list = [.. custom.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(SanitizationPass.Parse)];
                report = await sanitizer.SanitizeFileAsync(target, list, "custom", options.Verification, ranges, display,
                    cancellationToken);
            }
            else
            {
                report = await sanitizer.SanitizeFileAsync(target, SanitizationMethodNames.All[parse.GetValue(method)!], ranges, display,
                    cancellationToken);
            }

            display.Finish();
            if (signer is not null && parse.GetValue(certificate) is not null)
            {
                string signed = SanitizationCertificates.Sign(SanitizationCertificate.From(report, signer.LocalIdentity), signer);
                await File.WriteAllTextAsync(parse.GetValue(certificate)!.FullName, signed, CancellationToken.None);
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            }
            else
            {
                Print(ConsoleStyle.Standard, report);
            }

            return report.Succeeded ? ExitCodes.Success
                : !report.Completed && cancellationToken.IsCancellationRequested ? ExitCodes.Interrupted
                : ExitCodes.Failure;
        });
        return command;
    }

    private static Command VerifyCertificate()
    {
        var file = new Argument<FileInfo>("certificate") { Description = "A signed certificate of sanitization." };
        var ca = new Option<FileInfo?>("--ca") { Description = "The CA bundle (PEM) the signer must chain to; without it the signer is " +
            "unverified and the exit code is 1." };
        var command = new Command("verify-cert", """
            Checks a signed certificate of sanitization: the signature over every byte of it, and with --ca that the
            signing host is vouched for by that CA and is the host the certificate names. Exit 0 when it holds, 1 when
            it does not or when no --ca was given (the signer is then unverified), 2 when a file is missing.

            Examples:
              secmig sanitize verify-cert old-vm.cert.json --ca ca/ca.pem
            """)
        { file, ca };
        command.SetAction(async (parse, cancellationToken) =>
        {
            FileInfo certificate = parse.GetValue(file)!;
            if (!certificate.Exists)
            {
                throw new FileNotFoundException($"There is no certificate '{certificate.FullName}'.");
            }

            string? bundle = parse.GetValue(ca) is { } caFile ? await File.ReadAllTextAsync(caFile.FullName, cancellationToken) : null;
            CertificateVerification verification = SanitizationCertificates.Verify(await File.ReadAllTextAsync(certificate.FullName,
                cancellationToken), bundle);
            if (!verification.IsValid)
            {
                Console.WriteLine($"{certificate.FullName}: INVALID: {verification.Problem}");
                return ExitCodes.Failure;
            }

            SanitizationCertificate content = verification.Certificate!;
            Console.WriteLine(bundle is null
                ? $"{certificate.FullName}: UNVERIFIED SIGNER: the signature holds, but nothing vouches for its signer " +
                    $"{verification.Signer} (anyone can make a key); give --ca to check it"
                : $"{certificate.FullName}: valid, signed by {verification.Signer}");
            Console.WriteLine($"  {UntrustedText.Bound(content.MediaIdentity)} ({content.MediaSize} " +
                $"bytes{(content.MediaDeviceAndInode is { } inode ? ", device:inode " + UntrustedText.Bound(inode, 64) : string.Empty)}" +
                "): " +
                $"{UntrustedText.Bound(content.Result)}, {UntrustedText.Bound(content.SanitizationTechnique)}");
            if (content.MediaDescription is { } media)
            {
                Console.WriteLine($"  media: {UntrustedText.Bound(media)}");
            }

            Console.WriteLine($"  verification: {UntrustedText.Bound(content.VerificationMethod)}, coverage " +
                $"{content.VerificationCoverage:P1}; {content.Started:u} to {content.Finished:u}");
            return bundle is null ? ExitCodes.Failure : ExitCodes.Success;
        });
        return command;
    }

    private static async Task<string> ReadExtentsAsync(string file, CancellationToken cancellationToken)
    {
        if (!File.Exists(file))
        {
            throw new ArgumentException($"The extent list '{file}' does not exist.");
        }

        return await File.ReadAllTextAsync(file, cancellationToken);
    }

    private static void Print(ConsoleStyle style, SanitizationReport report)
    {
        string result = report.Succeeded ? style.Good("sanitized") : report.Completed ? style.Bad("VERIFICATION " +
            "FAILED") : style.Bad("INCOMPLETE (interrupted)");
        style.Line($"{report.Target}: {result}{(report.Resumed ? " (resumed from a checkpoint an interrupted run left)" : string.Empty)}");
        if (report.Device is { } device)
        {
            style.Line($"  device {device.Name}: {device.Transport}{(device.Model is { } model ? " " + model : string.Empty)}, " +
                $"logical/physical blocks {device.LogicalBlockSize}/{device.PhysicalBlockSize} bytes" +
                (device.Rotational is { } rotational ? rotational ? ", rotational" : ", non-rotational" : string.Empty) +
                $", write limit {Units.Bytes(device.MaxWriteBytes)}, write zeroes {Units.Bytes(device.WriteZeroesMaxBytes)}, discard " +
                $"{Units.Bytes(device.DiscardMaxBytes)}");
        }

        style.Line($"  method {report.Method}, {report.Passes.Count} pass(es): " +
            $"{string.Join(", ", PassesWithPaths(report).Take(6))}{(report.Passes.Count > 6 ? ", …" : string.Empty)}");
        style.Line($"  {Units.Bytes(report.Extents.Sum(e => e.Length))} of {Units.Bytes(report.TargetSize)} overwritten in " +
            $"{report.Extents.Count} extent(s), direct I/O " +
                $"{(report.DirectIo ? "yes" : "no")}" +
                $"{(report.DiscardMethod is { } discard ? $", then discarded ({discard})" : string.Empty)}");
        style.Line($"  verification {report.Verification}: {Units.Bytes(report.BytesVerified)} read back ({report.VerifiedCoverage:P1})" +
            (report.MismatchOffset is { } at ? style.Bad($", first mismatch at byte {at}") : string.Empty));
        foreach (string caveat in report.Caveats)
        {
            style.Line(style.Dim("  caveat: " + caveat));
        }

        if (report.Purge is { } purge)
        {
            foreach (string offer in purge.Offered)
            {
                style.Line($"  purge offered: {offer}");
            }

            style.Line($"  purge: {purge.Assessment}");
        }
    }

    private static IEnumerable<string> PassesWithPaths(SanitizationReport report) => report.PassPaths.Count == report.Passes.Count
        ? report.Passes.Zip(report.PassPaths, (pass, how) => $"{pass} ({how})")
        : report.Passes;

    /// <summary>One progress bar per pass stage.</summary>
    private sealed class WipeDisplay(ConsoleStyle style) : IProgress<SanitizationProgress>
    {
        private (int Pass, string Stage)? _current;
        private ProgressBar? _bar;
        private long _last;

        public void Report(SanitizationProgress value)
        {
            if (_current != (value.Pass, value.Stage))
            {
                Finish();
                _current = (value.Pass, value.Stage);
                _bar = new ProgressBar(style, $"pass {value.Pass}/{value.Passes} {value.Stage}", value.Total);
            }

            _last = value.Bytes;
            _bar!.Report(value.Bytes);
        }

        public void Finish()
        {
            _bar?.Finish(_last);

            _bar = null;
        }
    }
}
