namespace SecureMigration.Sanitization;

/// <summary>One overwrite of the whole target: a repeated byte pattern, or the per-run AES-128-CTR keystream.</summary>
public sealed record SanitizationPass
{
    private SanitizationPass(string name, byte[]? pattern)
    {
        Name = name;
        Pattern = pattern;
    }

    /// <summary>Gets the pass that writes the keystream.</summary>
    public static SanitizationPass Random { get; } = new("random", null);

    /// <summary>Gets the pass's name, for reports (<c>0x00</c>, <c>0x92 0x49 0x24</c>, <c>random</c>).</summary>
    public string Name { get; }

    /// <summary>Gets the repeated pattern (1 to 16 bytes), or <see langword="null"/> for the keystream.</summary>
    public IReadOnlyList<byte>? Pattern { get; }

    /// <summary>Gets whether the pass writes the keystream.</summary>
    public bool IsRandom => Pattern is null;

    /// <summary>Creates a pass that repeats <paramref name="pattern"/>.</summary>
    /// <param name="pattern">1 to 16 bytes.</param>
    /// <returns>The pass.</returns>
    /// <exception cref="ArgumentException">The pattern is empty or longer than 16 bytes.</exception>
    public static SanitizationPass Fill(params byte[] pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (pattern.Length is 0 or > 16)
        {
            throw new ArgumentException($"A fill pattern is 1 to 16 bytes; {pattern.Length} were given.", nameof(pattern));
        }

        return new SanitizationPass(string.Join(' ', pattern.Select(b => $"0x{b:X2}")), [.. pattern]);
    }

    /// <summary>Parses a pass as the CLI writes it: <c>random</c>, or hex bytes such as <c>00</c>, <c>0xff</c> or
    /// <c>92,49,24</c>.</summary>
    /// <param name="text">The pass.</param>
    /// <returns>The pass.</returns>
    /// <exception cref="FormatException">The text is neither.</exception>
    public static SanitizationPass Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.Equals(text.Trim(), "random", StringComparison.OrdinalIgnoreCase))
        {
            return Random;
        }

        try
        {
            return Fill([.. text.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries)
                .Select(part => Convert.ToByte(part.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? part[2..] : part, 16))]);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new FormatException($"The pass '{text}' is neither 'random' nor 1 to 16 hex bytes such as 00, 0xff or 92,49,24.", e);
        }
    }
}
