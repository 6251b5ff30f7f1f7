namespace SecureMigration.Admission;

/// <summary>Where a controller's state came from when it started.</summary>
public enum AdmissionRestore
{
    /// <summary>No state was saved: every budget starts fresh.</summary>
    Fresh,

    /// <summary>The saved state was read and verified.</summary>
    Restored,

    /// <summary>
    /// The saved state was damaged: it was not trusted, and the controller starts in its most restrictive state
    /// (no retries and no automatic migrations until a full budget window, dwell time and break duration have passed).
    /// </summary>
    DamagedStateRestricted,
}
