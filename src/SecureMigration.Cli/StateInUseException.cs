namespace SecureMigration.Cli;

/// <summary>Another process holds what this one needs alone (a host's state directory, an agent's control socket); nothing was
/// done (exit 2).</summary>
internal sealed class StateInUseException(string message) : IOException(message)
{
    /// <summary>Takes the state lock of <paramref name="directory"/>, or throws when another process holds it.</summary>
    public static HostStateLock Acquire(string directory) => HostStateLock.TryAcquire(directory) ??
        throw new StateInUseException($"Another secmig process (an agent or a migrate) holds the work directory '{directory}'. " +
            "Wait for it to end, or stop the agent, and run the command again; two processes writing one journal would break it.");
}
