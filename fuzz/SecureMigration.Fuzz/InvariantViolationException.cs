namespace SecureMigration.Fuzz;

/// <summary>A fuzz target's invariant failed: the parser returned something it must not. Never caught, so afl-fuzz records it.</summary>
internal sealed class InvariantViolationException(string message) : Exception(message)
{
    /// <summary>Throws when <paramref name="condition"/> is false.</summary>
    public static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvariantViolationException(what);
        }
    }
}
