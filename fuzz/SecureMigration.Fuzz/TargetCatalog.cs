using SecureMigration.Fuzz.Targets;

namespace SecureMigration.Fuzz;

/// <summary>Every fuzz target, by name.</summary>
internal static class TargetCatalog
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new RecordsTarget(),
        new WireTarget(),
        new TicketsTarget(),
        new HandshakeTarget(server: true),
        new HandshakeTarget(server: false),
        new JournalTarget(),
        new AuditTarget(),
        new RegistryTarget(),
        new QmpTarget(),
        new CheckpointTarget(),
        new ExtentsTarget(),
        new CertificateTarget(),
        new PemTarget(),
        new AgentConfigTarget(),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
