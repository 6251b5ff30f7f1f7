// The suite drives Linux tools (openssl, and later QEMU) and checks Unix file modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
