namespace SecureMigration.Coordination.Protocol;

/// <summary>The messages of the commit protocol, carried in frames over the secure channel.</summary>
internal enum FrameType : byte
{
    /// <summary>Destination → source: prepared, admitted, pre-hooks passed; send the stream.</summary>
    Ready = 1,

    /// <summary>Either way: the migration stops, with the reason (UTF-8).</summary>
    Abort = 2,

    /// <summary>Source → destination: a piece of the hypervisor's migration stream.</summary>
    Data = 3,

    /// <summary>Source → destination: the stream ended; its length (u64) and XXH128 digest.</summary>
    EndOfStream = 4,

    /// <summary>Destination → source: the digest matched, the VM loaded, the post-hooks passed.</summary>
    Verified = 5,

    /// <summary>Source → destination: the source's post-hooks passed; take the ownership epoch.</summary>
    Commit = 6,

    /// <summary>Destination → source: the epoch moved to the destination; the new epoch (u64).</summary>
    Committed = 7,
}
