namespace SecureMigration.Coordination.Drivers;

/// <summary>A VM as the hypervisor sees it on this host.</summary>
/// <param name="State">What it is doing.</param>
/// <param name="Images">The files that hold its state on this host (memory image, disks), for snapshots and residue.</param>
public sealed record VmStatus(VmRunState State, IReadOnlyList<string> Images)
{
    /// <summary>Gets whether this copy could run (it is running, or paused with a complete state).</summary>
    public bool IsRunnable => State is VmRunState.Running or VmRunState.Paused;

    /// <summary>Gets what the hypervisor saw, for people (for example where it looked for the VM), or <see langword="null"/>.</summary>
    public string? Detail { get; init; }
}
