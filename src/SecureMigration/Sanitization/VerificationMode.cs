namespace SecureMigration.Sanitization;

/// <summary>How the last pass is checked, reading past the page cache where the OS allows.</summary>
public enum VerificationMode
{
    /// <summary>No read-back.</summary>
    None,

    /// <summary>NIST SP 800-88 style sampling: the first and last blocks and many pseudorandom blocks between; the coverage is
    /// reported.</summary>
    Sample,

    /// <summary>Every byte is read back and compared.</summary>
    Full,
}
