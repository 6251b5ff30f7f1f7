using System.Text.Json.Serialization;

namespace SecureMigration.Coordination;

/// <summary>Source-generated JSON for ownership records (trimming- and AOT-safe).</summary>
[JsonSerializable(typeof(OwnershipRecord))]
[JsonSerializable(typeof(AnchoredHead))]
internal sealed partial class OwnershipJson : JsonSerializerContext;
