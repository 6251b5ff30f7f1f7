namespace SecureMigration.Admission.State;

/// <summary>Everything admission must remember across a restart. Migrations in flight are not part of it.</summary>
internal sealed record AdmissionSnapshot(int Version, DateTimeOffset SavedAt, RetryBudgetSnapshot GlobalBudget, VmSnapshot[] Vms,
    HostPairSnapshot[] Pairs)
{
    public const int CurrentVersion = 1;
}
