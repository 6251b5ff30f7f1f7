using SecureMigration.Coordination.Drivers;


namespace SecureMigration.Testing.Simulation;

/// <summary>What the simulated hypervisor keeps on disk about one VM, so its state outlives a crash of the process.</summary>
/// <param name="State">What the VM is doing.</param>
/// <param name="Size">The memory image's size in bytes.</param>
/// <param name="ImageSha256">The SHA-256 (hex) of the image when it was last frozen: when a source paused at switchover, when a destination
/// finished loading.</param>
internal sealed record SimulatedVmRecord(VmRunState State, long Size, string? ImageSha256);
