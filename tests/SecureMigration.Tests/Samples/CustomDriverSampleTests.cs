using SecureMigration.Samples.CustomDriver;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Samples;

/// <summary>The embedding example in samples/ must keep compiling and keep working as the library changes.</summary>
public sealed class CustomDriverSampleTests
{
    [Fact]
    public async Task TwoHostMigration_WithTheSampleDriver_EveryCheckHolds()
    {
        using var dir = new TempDirectory();
        using var output = new StringWriter();

        bool held = await TwoHostMigration.RunAsync(dir.Path, output);

        Assert.True(held, output.ToString());
        Assert.DoesNotContain("FAIL", output.ToString());
        Assert.Contains("source:      Completed", output.ToString());
    }
}
