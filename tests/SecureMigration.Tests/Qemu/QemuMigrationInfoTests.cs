using System.Text.Json;
using SecureMigration.Qemu;

namespace SecureMigration.Tests.Qemu;

public sealed class QemuMigrationInfoTests
{
    [Theory]
    [InlineData("active", "active")]
    [InlineData("postcopy-recover-setup", "postcopy-recover-setup")]
    [InlineData("completed\nresult vm1 Completed", QemuMigrationInfo.UnknownStatus)]
    [InlineData("Completed", QemuMigrationInfo.UnknownStatus)]
    [InlineData("\u001b[2Jfailed", QemuMigrationInfo.UnknownStatus)]
    [InlineData("", QemuMigrationInfo.UnknownStatus)]
    public void Parse_KeepsOnlyAShortTokenAsStatus(string status, string expected)
    {
        QemuMigrationInfo info = Parse(("status", status));

        Assert.Equal(expected, info.Status);
        Assert.False(info.IsSettled && expected == QemuMigrationInfo.UnknownStatus);
    }

    [Fact]
    public void Parse_LongStatusWord_IsUnknown() =>
        Assert.Equal(QemuMigrationInfo.UnknownStatus, Parse(("status", new string('a', 4 * 1024 * 1024))).Status);

    [Fact]
    public void Parse_GuestChosenError_IsBoundedAndStaysOnOneLine()
    {
        string error = "disk full\nresult vm1 Completed\u001b]0;owned\u0007" + new string('x', 4 * 1024 * 1024);

        QemuMigrationInfo info = Parse(("status", "failed"), ("error-desc", error));

        Assert.NotNull(info.Error);
        Assert.StartsWith("disk full\\nresult vm1 Completed\\u001b]0;owned\\u0007", info.Error, StringComparison.Ordinal);
        Assert.InRange(info.Error.Length, 1, QemuMigrationInfo.MaxErrorLength + 64);
        Assert.DoesNotContain(info.Error, char.IsControl);
    }

    [Fact]
    public void Parse_NoStatus_IsNone() => Assert.Equal("none", Parse().Status);

    private static QemuMigrationInfo Parse(params (string Name, string Value)[] members) =>
        QemuMigrationInfo.Parse(JsonSerializer.SerializeToElement(members.ToDictionary(m => m.Name, m => m.Value)));
}
