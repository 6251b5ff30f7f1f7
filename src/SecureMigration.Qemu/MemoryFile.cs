using SecureMigration.Storage;

namespace SecureMigration.Qemu;

/// <summary>A VM's RAM file as the driver learned it: its real path, and which file that was (device and inode).</summary>
/// <param name="Path">The real path.</param>
/// <param name="Identity">The file's identity when QEMU reported it and mapped it.</param>
internal sealed record MemoryFile(string Path, FileIdentity Identity);
