namespace SecureMigration.Sanitization;

/// <summary>A block device was not overwritten: block devices were not allowed, or it is in use. Nothing was written.</summary>
public sealed class BlockDeviceRefusedException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="device">The device.</param>
    /// <param name="problem">Why it was refused and what to do, as a sentence fragment.</param>
    public BlockDeviceRefusedException(string device, string problem)
        : base($"The block device '{device}' was not overwritten: {problem}. Nothing was written.")
    {
        Device = device;
        Problem = problem;
    }

    /// <summary>Gets the device.</summary>
    public string Device { get; }

    /// <summary>Gets why it was refused.</summary>
    public string Problem { get; }
}
