namespace SecureMigration.Sanitization;

/// <summary>The passes of each <see cref="SanitizationMethod"/>.</summary>
public static class SanitizationMethods
{
    private static readonly byte[][] GutmannPatterns =
    [
        [0x55], [0xAA], [0x92, 0x49, 0x24], [0x49, 0x24, 0x92], [0x24, 0x92, 0x49],
        [0x00], [0x11], [0x22], [0x33], [0x44], [0x55], [0x66], [0x77], [0x88], [0x99], [0xAA], [0xBB], [0xCC], [0xDD], [0xEE], [0xFF],
        [0x92, 0x49, 0x24], [0x49, 0x24, 0x92], [0x24, 0x92, 0x49], [0x6D, 0xB6, 0xDB], [0xB6, 0xDB, 0x6D], [0xDB, 0x6D, 0xB6],
    ];

    /// <summary>Gets the passes of <paramref name="method"/>, in order.</summary>
    /// <param name="method">The method.</param>
    /// <returns>The passes.</returns>
    public static IReadOnlyList<SanitizationPass> Passes(SanitizationMethod method) => method switch
    {
        SanitizationMethod.Zero or SanitizationMethod.NistClear => [SanitizationPass.Fill(0x00)],
        SanitizationMethod.Ones => [SanitizationPass.Fill(0xFF)],
        SanitizationMethod.Random => [SanitizationPass.Random],
        SanitizationMethod.DoD522022M => [SanitizationPass.Fill(0x00), SanitizationPass.Fill(0xFF), SanitizationPass.Random],
        SanitizationMethod.Gutmann => [.. Enumerable.Repeat(SanitizationPass.Random, 4), .. GutmannPatterns.Select(SanitizationPass.Fill),
            .. Enumerable.Repeat(SanitizationPass.Random, 4)],
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown sanitization method."),
    };

    /// <summary>Gets whether <paramref name="method"/> requires verification of its last pass by definition.</summary>
    /// <param name="method">The method.</param>
    /// <returns><see langword="true"/> for NIST Clear and DoD 5220.22-M.</returns>
    public static bool RequiresVerification(SanitizationMethod method) => method is SanitizationMethod.NistClear or
        SanitizationMethod.DoD522022M;
}
