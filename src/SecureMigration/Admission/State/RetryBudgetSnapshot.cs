namespace SecureMigration.Admission.State;

/// <summary>A retry budget's counters as saved.</summary>
internal sealed record RetryBudgetSnapshot(long CurrentSlot, long[] Deposits, long[] Withdrawals, long[] BucketStarts);
