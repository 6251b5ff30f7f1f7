using System.Text.Json.Serialization;
using SecureMigration.Identity;

namespace SecureMigration.Coordination.Ownership;

/// <summary>Source-generated JSON for ownership records (trimming- and AOT-safe).</summary>
[JsonSerializable(typeof(OwnershipRecord))]
[JsonSerializable(typeof(AnchoredHead))]
[JsonSerializable(typeof(InFlightMigration))]
[JsonSerializable(typeof(SignedEnvelope))]
[JsonSerializable(typeof(PskSealedRecord))]
internal sealed partial class OwnershipJson : JsonSerializerContext;
