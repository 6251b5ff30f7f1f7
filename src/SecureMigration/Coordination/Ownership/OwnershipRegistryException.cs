namespace SecureMigration.Coordination.Ownership;

/// <summary>An ownership record could not be read or trusted; no decision is taken on it.</summary>
public sealed class OwnershipRegistryException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="vmId">The VM whose record is bad.</param>
    /// <param name="location">Where the record is kept.</param>
    /// <param name="problem">What is wrong with it.</param>
    public OwnershipRegistryException(string vmId, string location, string problem)
        : base($"The ownership record of VM '{vmId}' at '{location}' cannot be trusted: {problem}. No host may run or resume the VM on " +
            $"its strength; " +
            "restore the record from a backup or re-register the VM with the host that really runs it.")
    {
        VmId = vmId;
        Location = location;
        Problem = problem;
    }

    private OwnershipRegistryException(string journal, string location, string problem, bool _)
        : base($"The journal head of '{journal}' anchored at '{location}' cannot be trusted: {problem}. Recovery acts on nothing until " +
            "it can check the journal against a head it trusts.")
    {
        VmId = journal;
        Location = location;
        Problem = problem;
    }

    /// <summary>Gets the VM whose record is bad (for an anchored journal head, the journal's name).</summary>
    public string VmId { get; }

    /// <summary>Gets where the record is kept.</summary>
    public string Location { get; }

    /// <summary>Gets what is wrong with it.</summary>
    public string Problem { get; }

    /// <summary>Creates the exception for a journal head anchored in the registry.</summary>
    /// <param name="journal">The journal.</param>
    /// <param name="location">Where the head is kept.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <returns>The exception.</returns>
    internal static OwnershipRegistryException ForJournalHead(string journal, string location, string problem) =>
        new(journal, location, problem, _: true);
}
