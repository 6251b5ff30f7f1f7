using System.Text;
using System.Text.Json;
using SecureMigration.Fuzz.Peer;
using SecureMigration.Identity;
using SecureMigration.Sanitization;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// Certificates of sanitization (<see cref="SanitizationCertificates.Verify"/>). Input: <c>MODE TEXT</c>; MODE 0 checks
/// TEXT as the signed JSON it is, MODE 1 signs TEXT as the payload with the cluster's <c>source.test</c> key first (so
/// the fuzzer reaches the certificate's JSON). Invariants: no exception (a bad certificate is a verdict); a valid
/// verdict carries the certificate, signed by whom it names, and signs and checks again to the same JSON.
/// </summary>
internal sealed class CertificateTarget : FuzzTarget
{
    private const string Format = "SecureMigration sanitization certificate v1";

    public override string Name => "certificate";

    public override void Run(byte[] input)
    {
        FuzzCluster cluster = FuzzCluster.Instance;
        string text = input.Length == 0 ? string.Empty : Encoding.UTF8.GetString(input, 1, input.Length - 1);
        string signed = input.Length > 0 && (input[0] & 1) == 1
            ? JsonSerializer.Serialize(HostSignatures.Sign(Format, text, cluster.SourceCredentials),
                SanitizationJson.Default.SignedEnvelope)
            : text;
        var budget = AllocationBudget.Start(input.Length, fixedBytes: 2 << 20, perInputByte: 64);
        CertificateVerification verdict = SanitizationCertificates.Verify(signed, cluster.CaPem);
        budget.Check("Checking the certificate");
        InvariantViolationException.Check(verdict.IsValid == verdict.Problem is null, "the verdict and its problem disagree");
        if (verdict.IsValid)
        {
            InvariantViolationException.Check(verdict.Certificate is { PerformedBy: "source.test" },
                "a valid certificate names another signer than its own");
            string resigned = SanitizationCertificates.Sign(verdict.Certificate!, cluster.SourceCredentials);
            CertificateVerification again = SanitizationCertificates.Verify(resigned, cluster.CaPem);
            InvariantViolationException.Check(again.IsValid && Json(again.Certificate!) == Json(verdict.Certificate!),
                "a valid certificate does not sign and check back to itself");
        }
    }

    private static string Json(SanitizationCertificate certificate) =>
        JsonSerializer.Serialize(certificate, SanitizationJson.Default.SanitizationCertificate);

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        var certificate = new SanitizationCertificate
        {
            CertificateId = Guid.Parse("c3a1f0de-5b2a-4d7e-9e1f-0a2b3c4d5e6f"), PerformedBy = "source.test", MediaType = "file",
            MediaIdentity = "/var/lib/secmig/vm-7.mem", MediaDeviceAndInode = "64769:1234", MediaSize = 1 << 20,
            Extents = [new Extent(0, 4096), new Extent(8192, 4096)], SanitizationTechnique = "overwrite (zeros)", Tool = "secmig",
            VerificationMethod = "read-back", VerificationCoverage = 1, Started = DateTimeOffset.FromUnixTimeSeconds(1_790_000_000),
            Finished = DateTimeOffset.FromUnixTimeSeconds(1_790_000_030), Result = "success", Caveats = ["the device may remap blocks"],
        };
        string signed = SanitizationCertificates.Sign(certificate, FuzzCluster.Instance.SourceCredentials);
        yield return ("signed", [0, .. Encoding.UTF8.GetBytes(signed)]);
        yield return ("payload", [1, .. Encoding.UTF8.GetBytes(Json(certificate))]);
    }
}
