namespace SecureMigration.Tests.Etcd.Linearizability;

/// <summary>
/// One operation on one VM's ownership register as a client saw it: when it was invoked and when it returned (positions
/// on one counter all clients share), what it asked and what it got. <see cref="Returned"/> is <see langword="null"/>
/// for an operation that failed (etcd unreachable): it may have taken effect at any time after its call, or never.
/// </summary>
/// <param name="Client">The client that ran it.</param>
/// <param name="Called">When it was invoked.</param>
/// <param name="Returned">When it returned, or <see langword="null"/> when its outcome is unknown.</param>
/// <param name="Move">For a compare-and-swap, what it asked; <see langword="null"/> for a read.</param>
/// <param name="Moved">For a compare-and-swap that returned, whether it moved the epoch.</param>
/// <param name="Observed">What the register held by the answer (a read's result, a swap's current record).</param>
public sealed record RegisterOperation(int Client, long Called, long? Returned, MoveRequest? Move, bool Moved, RegisterState? Observed)
{
    public override string ToString() => (Move is null ? "read" : $"move {Move}") +
        $" by client {Client} [{Called}, {(Returned is { } r ? r.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")}]" +
        (Returned is null ? " (unknown)" : Move is null ? $" -> {Observed}" : $" -> moved={Moved}, {Observed}");
}

/// <summary>A compare-and-swap: from (<paramref name="ExpectedEpoch"/>, <paramref name="ExpectedOwner"/>) to the next epoch under
/// <paramref name="NewOwner"/>.</summary>
public sealed record MoveRequest(long ExpectedEpoch, string ExpectedOwner, string NewOwner, Guid MigrationId)
{
    public RegisterState Next => new(ExpectedEpoch + 1, NewOwner, MigrationId);

    public bool AppliesTo(RegisterState? state) =>
        state is not null && state.Epoch == ExpectedEpoch && string.Equals(state.Owner, ExpectedOwner, StringComparison.Ordinal);
}
