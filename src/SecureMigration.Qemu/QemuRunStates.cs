using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Qemu;

/// <summary>Maps QEMU's run states (<c>query-status</c>) to what the coordinator needs to know.</summary>
public static class QemuRunStates
{
    /// <summary>Maps a QEMU run state.</summary>
    /// <param name="status">QEMU's <c>status</c> (for example <c>running</c>, <c>inmigrate</c>, <c>postmigrate</c>).</param>
    /// <returns>
    /// <see cref="VmRunState.Incoming"/> while QEMU waits for or loads an incoming migration; <see cref="VmRunState.Running"/>;
    /// <see cref="VmRunState.Stopped"/> for states that need a reset (shut down, panicked, internal error);
    /// <see cref="VmRunState.Paused"/> for every other state, since <c>cont</c> could run it.
    /// </returns>
    public static VmRunState ToVmRunState(string status) => status switch
    {
        "inmigrate" => VmRunState.Incoming,
        "running" => VmRunState.Running,
        "shutdown" or "guest-panicked" or "internal-error" => VmRunState.Stopped,
        _ => VmRunState.Paused,
    };
}
