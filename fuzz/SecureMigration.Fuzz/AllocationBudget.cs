namespace SecureMigration.Fuzz;

/// <summary>
/// Bounded allocation: what one input may make the parser allocate on this thread, a fixed allowance plus a
/// multiple of the input's length. The targets feed in-memory pipes that are complete before the parser starts,
/// so the parser's work runs on the calling thread and the thread's allocation counter sees it.
/// </summary>
internal readonly struct AllocationBudget
{
    private readonly long _start;
    private readonly long _limit;

    private AllocationBudget(long fixedBytes, long perInputByte, int inputLength)
    {
        _limit = fixedBytes + (perInputByte * inputLength);
        _start = GC.GetAllocatedBytesForCurrentThread();
    }

    /// <summary>Starts counting for an input of <paramref name="inputLength"/> bytes.</summary>
    public static AllocationBudget Start(int inputLength, long fixedBytes, long perInputByte) => new(fixedBytes, perInputByte, inputLength);

    /// <summary>Throws when more than the budget was allocated since <see cref="Start"/>.</summary>
    public void Check(string what)
    {
        long used = GC.GetAllocatedBytesForCurrentThread() - _start;
        InvariantViolationException.Check(used <= _limit, $"{what} allocated {used} bytes, more than its budget of {_limit}");
    }
}
