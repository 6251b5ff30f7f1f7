using SecureMigration.Coordination;

namespace SecureMigration.Tests.Adversary;

/// <summary>One misbehaviour: what the peer does, and how the real coordinator must end (its status and the words of its reason).</summary>
internal sealed record AdversaryCase(Func<AdversaryPeer, Arena, Task> Script, MigrationStatus Status, string Reason);
