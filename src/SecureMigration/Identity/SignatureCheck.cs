namespace SecureMigration.Identity;

/// <summary>What <see cref="HostSignatures.Check"/> found: a problem, or the signer's subject and host name.</summary>
/// <param name="Problem">What is wrong, or <see langword="null"/> when the signature holds.</param>
/// <param name="Subject">The signer certificate's subject, when it could be read.</param>
/// <param name="SignerName">The signer's host name, when the signature holds.</param>
internal readonly record struct SignatureCheck(string? Problem, string? Subject, string? SignerName)
{
    public static SignatureCheck Fail(string problem, string? subject) => new(problem, subject, null);
}
