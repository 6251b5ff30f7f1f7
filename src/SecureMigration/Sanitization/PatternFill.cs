namespace SecureMigration.Sanitization;

/// <summary>Fills buffers with what a pass writes at a given offset of the target.</summary>
internal static class PatternFill
{
    public static void Fill(SanitizationPass pass, AesCtrKeystream? keystream, long offset, Span<byte> destination)
    {
        if (pass.IsRandom)
        {
            keystream!.Generate(offset, destination);
            return;
        }

        IReadOnlyList<byte> pattern = pass.Pattern!;
        if (pattern.Count == 1)
        {
            if (pattern[0] == 0)
            {
                destination.Clear();
            }
            else
            {
                destination.Fill(pattern[0]);
            }

            return;
        }

        // Multi-byte patterns stay in phase with the target offset, so any block can be checked on its own.
        int phase = (int)(offset % pattern.Count);
        int seed = Math.Min(destination.Length, pattern.Count * 64);
        for (int i = 0; i < seed; i++)
        {
            destination[i] = pattern[(phase + i) % pattern.Count];
        }

        // The seed is whole repetitions, so doubling what is filled keeps the phase.
        for (int filled = seed; filled < destination.Length;)
        {
            int copy = Math.Min(filled, destination.Length - filled);
            destination[..copy].CopyTo(destination[filled..]);
            filled += copy;
        }
    }
}
