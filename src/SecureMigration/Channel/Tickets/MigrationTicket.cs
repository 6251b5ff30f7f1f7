using System.Security.Cryptography;

namespace SecureMigration.Channel.Tickets;

/// <summary>
/// What one migration is allowed to do over one channel: it names the VM, both hosts and the ownership
/// epoch, carries a fresh nonce, and expires. It is bound to the TLS session it travels in, so it cannot be
/// replayed into another session or redirected to another host.
/// </summary>
/// <param name="MigrationId">The migration this ticket belongs to.</param>
/// <param name="VmId">The VM being migrated.</param>
/// <param name="SourceIdentity">The identity of the sending host (its certificate name or PSK identity).</param>
/// <param name="DestinationIdentity">The identity of the receiving host.</param>
/// <param name="OwnershipEpoch">The ownership epoch (fencing token) the migration starts from.</param>
/// <param name="Nonce">A random value that makes the ticket unique.</param>
/// <param name="ExpiresAt">The instant after which the ticket is refused.</param>
public sealed record MigrationTicket(
    Guid MigrationId,
    string VmId,
    string SourceIdentity,
    string DestinationIdentity,
    long OwnershipEpoch,
    UInt128 Nonce,
    DateTimeOffset ExpiresAt)
{
    /// <summary>The longest VM id, host identity or registry id, in UTF-8 bytes.</summary>
    public const int MaxFieldLength = 255;

    /// <summary>
    /// Gets the id of the ownership registry that issued <see cref="OwnershipEpoch"/>
    /// (<see cref="Coordination.Ownership.IOwnershipRegistry.GetIdAsync"/>),
    /// or <see langword="null"/> for a ticket outside ownership (a tunnel's). A destination refuses a ticket from another registry.
    /// </summary>
    public string? RegistryId
    {
        get;
        init
        {
            if (value is not null)
            {
                TicketCodec.EnsureField(value, nameof(RegistryId));
            }

            field = value;
        }
    }

    /// <summary>
    /// Gets the version the ownership registry stored the record of <see cref="OwnershipEpoch"/> at when the migration
    /// started (<see cref="Coordination.Ownership.OwnershipRecord.Revision"/>, etcd's <c>mod_revision</c>), or
    /// <see langword="null"/> where the registry keeps no versions. The destination's commit moves the record only if it is
    /// still at this revision, so a record the source took back and someone put back since (the same bytes at a new
    /// revision) does not let a late commit through.
    /// </summary>
    public long? RegistryRevision
    {
        get;
        init
        {
            if (value is { } revision)
            {
                ArgumentOutOfRangeException.ThrowIfNegativeOrZero(revision, nameof(RegistryRevision));
            }

            field = value;
        }
    }

    /// <summary>Creates a ticket with a fresh random nonce that expires after <paramref name="lifetime"/>.</summary>
    /// <param name="vmId">The VM being migrated.</param>
    /// <param name="sourceIdentity">The identity of the sending host.</param>
    /// <param name="destinationIdentity">The identity of the receiving host.</param>
    /// <param name="ownershipEpoch">The ownership epoch the migration starts from.</param>
    /// <param name="lifetime">How long the ticket stays valid.</param>
    /// <param name="timeProvider">The clock, or <see langword="null"/> for the system clock.</param>
    /// <param name="migrationId">The migration id, or <see langword="null"/> for a new one.</param>
    /// <returns>The ticket.</returns>
    public static MigrationTicket Create(string vmId, string sourceIdentity, string destinationIdentity, long ownershipEpoch,
        TimeSpan lifetime, TimeProvider? timeProvider = null, Guid? migrationId = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ownershipEpoch);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        Span<byte> nonce = stackalloc byte[16];
        RandomNumberGenerator.Fill(nonce);
        var ticket = new MigrationTicket(migrationId ?? Guid.NewGuid(), vmId, sourceIdentity, destinationIdentity, ownershipEpoch,
            new UInt128(BitConverter.ToUInt64(nonce), BitConverter.ToUInt64(nonce[8..])),
            // The wire carries milliseconds: round here so the ticket compares equal after a round trip.
            DateTimeOffset.FromUnixTimeMilliseconds(((timeProvider ?? TimeProvider.System).GetUtcNow() + lifetime)
                .ToUnixTimeMilliseconds()));
        TicketCodec.EnsureEncodable(ticket);
        return ticket;
    }
}
