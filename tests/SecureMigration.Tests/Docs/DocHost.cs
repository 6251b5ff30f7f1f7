namespace SecureMigration.Tests.Docs;

/// <summary>Where a documented command runs: the operator's workstation (the PKI), the source host or the destination host.</summary>
public enum DocHost
{
    Workstation,
    Source,
    Destination,
}
