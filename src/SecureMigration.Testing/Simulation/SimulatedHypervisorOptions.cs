namespace SecureMigration.Testing.Simulation;

/// <summary>How the simulated hypervisor's VMs behave.</summary>
public sealed class SimulatedHypervisorOptions
{
    /// <summary>Gets or sets the unit of dirtying and of the migration stream.</summary>
    /// <value>64 KiB.</value>
    public int BlockSize { get; set; } = 64 * 1024;

    /// <summary>Gets or sets how often a running VM's writer dirties memory.</summary>
    /// <value>2 ms.</value>
    public TimeSpan DirtyInterval { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Gets or sets how many blocks each tick of the writer dirties (with the defaults, about 32 MiB/s: a busy guest).</summary>
    /// <value>1.</value>
    public int BlocksDirtiedPerTick { get; set; } = 1;

    /// <summary>Gets or sets the most pre-copy rounds before the VM is paused for the final copy.</summary>
    /// <value>5.</value>
    public int MaxPreCopyRounds { get; set; } = 5;

    /// <summary>Gets or sets how few dirty blocks end pre-copy early.</summary>
    /// <value>16.</value>
    public int StopAndCopyBlocks { get; set; } = 16;

    internal void Validate()
    {
        if (BlockSize is < 512 or > 16 * 1024 * 1024 || BlocksDirtiedPerTick < 0 || MaxPreCopyRounds < 0 || StopAndCopyBlocks < 0 ||
            DirtyInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The simulated hypervisor options are out of range: BlockSize {BlockSize} (512 B to 16 MiB), " +
                $"BlocksDirtiedPerTick {BlocksDirtiedPerTick}, " +
                $"MaxPreCopyRounds {MaxPreCopyRounds} and StopAndCopyBlocks {StopAndCopyBlocks} (not negative), DirtyInterval " +
                    $"{DirtyInterval} (positive).");
        }
    }
}
