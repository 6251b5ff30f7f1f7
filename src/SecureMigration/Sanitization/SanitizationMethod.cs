namespace SecureMigration.Sanitization;

/// <summary>The overwrite schemes the sanitizer knows; <see cref="SanitizationMethods.Passes"/> lists each one's passes.</summary>
public enum SanitizationMethod
{
    /// <summary>One pass of zeros.</summary>
    Zero,

    /// <summary>One pass of 0xFF.</summary>
    Ones,

    /// <summary>One pass of the AES-128-CTR keystream.</summary>
    Random,

    /// <summary>NIST SP 800-88 Clear: one overwrite (zeros) followed by verification.</summary>
    NistClear,

    /// <summary>DoD 5220.22-M: 0x00, 0xFF, random, then verification.</summary>
    DoD522022M,

    /// <summary>Gutmann's 35 passes (4 random, 27 patterns, 4 random); for research, not needed on modern drives.</summary>
    Gutmann,
}
