using System.Text;
using SecureMigration.Fuzz.Peer;
using SecureMigration.Identity;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// PEM credentials (<see cref="PemObjects"/>, <see cref="X509ChannelCredentials.FromPem"/>). Input: <c>MODE TEXT</c>;
/// MODE 0 reads TEXT as certificates, 1 as a private key, 2 as the host certificate of a credential set (with the
/// cluster's real key and CA), 3 as its CA bundle. Invariants: only <see cref="InvalidCredentialsException"/>;
/// every certificate read writes back to PEM and reads again to the same DER; bounded allocation.
/// </summary>
internal sealed class PemTarget : FuzzTarget
{
    public override string Name => "pem";

    public override void Run(byte[] input)
    {
        var fields = new FuzzInput(input);
        int mode = fields.Byte() % 4;
        string text = Encoding.UTF8.GetString(fields.Rest);
        FuzzCluster cluster = FuzzCluster.Instance;
        var budget = AllocationBudget.Start(input.Length, fixedBytes: 2 << 20, perInputByte: 256);
        try
        {
            switch (mode)
            {
                case 0:
                    foreach (Org.BouncyCastle.X509.X509Certificate certificate in PemObjects.ReadCertificates(text, "the input"))
                    {
                        byte[] again = PemObjects.ReadCertificates(PemObjects.ToPem(certificate), "the written PEM")[0].GetEncoded();
                        InvariantViolationException.Check(again.SequenceEqual(certificate.GetEncoded()),
                            "a certificate does not write and read back to itself");
                    }

                    break;
                case 1:
                    PemObjects.ReadPrivateKey(text, "the input");
                    break;
                case 2:
                    X509ChannelCredentials.FromPem(text, cluster.SourcePem.PrivateKeyPem, cluster.CaPem);
                    break;
                default:
                    X509ChannelCredentials.FromPem(cluster.SourcePem.CertificatePem, cluster.SourcePem.PrivateKeyPem, text);
                    break;
            }
        }
        catch (InvalidCredentialsException)
        {
            // The documented refusal.
        }

        budget.Check("Reading the PEM");
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        FuzzCluster cluster = FuzzCluster.Instance;
        yield return ("certificates", [0, .. Encoding.UTF8.GetBytes(cluster.SourcePem.CertificatePem + cluster.CaPem)]);
        yield return ("key", [1, .. Encoding.UTF8.GetBytes(cluster.SourcePem.PrivateKeyPem)]);
        yield return ("host-certificate", [2, .. Encoding.UTF8.GetBytes(cluster.SourcePem.CertificatePem)]);
        yield return ("ca-bundle", [3, .. Encoding.UTF8.GetBytes(cluster.CaPem)]);
    }
}
