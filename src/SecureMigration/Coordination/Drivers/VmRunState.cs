namespace SecureMigration.Coordination.Drivers;

/// <summary>What the hypervisor says a VM on this host is doing.</summary>
public enum VmRunState
{
    /// <summary>The host has no such VM.</summary>
    Absent,

    /// <summary>A destination waiting for or loading an incoming migration; it cannot run.</summary>
    Incoming,

    /// <summary>Running.</summary>
    Running,

    /// <summary>Paused with a complete state: it could run if resumed (a source after its stream ended, a loaded destination).</summary>
    Paused,

    /// <summary>Stopped for good (a discarded source, a destroyed destination); it can never run again.</summary>
    Stopped,
}
