namespace SecureMigration.Admission;

/// <summary>
/// An admitted migration's slot. Complete it exactly once with the outcome; the outcome feeds every policy.
/// A value type, so admitting allocates nothing.
/// </summary>
public readonly struct AdmissionLease : IEquatable<AdmissionLease>
{
    private readonly AdmissionController? _controller;

    internal AdmissionLease(AdmissionController controller, MigrationRequest request, long id)
    {
        _controller = controller;
        Request = request;
        Id = id;
    }

    /// <summary>Gets the admitted request.</summary>
    public MigrationRequest Request { get; }

    /// <summary>Gets the lease's identity within its controller.</summary>
    public long Id { get; }

    /// <summary>Releases the slot and reports how the migration ended.</summary>
    /// <param name="outcome">How it ended.</param>
    /// <exception cref="InvalidOperationException">The lease is default, or was completed before.</exception>
    public void Complete(MigrationOutcome outcome)
    {
        if (_controller is null)
        {
            throw new InvalidOperationException("This lease was not issued by an admission controller; only an admitted decision carries " +
                "one.");
        }

        _controller.Complete(this, outcome);
    }

    /// <inheritdoc />
    public bool Equals(AdmissionLease other) => ReferenceEquals(_controller, other._controller) && Id == other.Id;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is AdmissionLease other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_controller, Id);

    /// <summary>Compares two leases.</summary>
    /// <param name="left">A lease.</param>
    /// <param name="right">Another lease.</param>
    /// <returns>Whether they are the same lease.</returns>
    public static bool operator ==(AdmissionLease left, AdmissionLease right) => left.Equals(right);

    /// <summary>Compares two leases.</summary>
    /// <param name="left">A lease.</param>
    /// <param name="right">Another lease.</param>
    /// <returns>Whether they are different leases.</returns>
    public static bool operator !=(AdmissionLease left, AdmissionLease right) => !left.Equals(right);
}
