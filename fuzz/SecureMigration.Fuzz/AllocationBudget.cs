namespace SecureMigration.Fuzz;

/// <summary>
/// Bounded allocation: what one input may make the parser allocate, a fixed allowance plus a multiple of the input's
/// length. Most targets feed in-memory pipes that are complete before the parser starts, so the parser's work runs on
/// the calling thread and the thread's allocation counter sees it; a parser with threads of its own (QMP's reader)
/// is counted over the whole process (<see cref="StartProcessWide"/>), which runs nothing else meanwhile.
/// </summary>
internal readonly struct AllocationBudget
{
    private readonly long _start;
    private readonly long _limit;
    private readonly bool _processWide;

    private AllocationBudget(long fixedBytes, long perInputByte, int inputLength, bool processWide)
    {
        _limit = fixedBytes + (perInputByte * inputLength);
        _processWide = processWide;
        _start = Allocated(processWide);
    }

    /// <summary>Starts counting this thread's allocations for an input of <paramref name="inputLength"/> bytes.</summary>
    public static AllocationBudget Start(int inputLength, long fixedBytes, long perInputByte) => new(fixedBytes, perInputByte, inputLength,
        false);

    /// <summary>Starts counting every thread's allocations for an input of <paramref name="inputLength"/> bytes.</summary>
    public static AllocationBudget StartProcessWide(int inputLength, long fixedBytes, long perInputByte) => new(fixedBytes, perInputByte,
        inputLength, true);

    private static long Allocated(bool processWide) =>
        processWide ? GC.GetTotalAllocatedBytes(precise: true) : GC.GetAllocatedBytesForCurrentThread();

    /// <summary>Throws when more than the budget was allocated since the start.</summary>
    public void Check(string what)
    {
        long used = Allocated(_processWide) - _start;
        InvariantViolationException.Check(used <= _limit, $"{what} allocated {used} bytes, more than its budget of {_limit}");
    }
}
