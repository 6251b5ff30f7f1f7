using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Docs;

/// <summary>
/// docs/getting-started.md's walkthroughs, run as written on two hosts (network namespaces on this machine) with real
/// QEMU, so the document cannot drift from the tool (issue 16). <see cref="DocRunner"/> lists the only substitutions.
/// </summary>
public sealed class GettingStartedDocTests
{
    private static async Task<IReadOnlyList<DocStep>> SectionAsync(string heading) =>
        DocWalkthrough.Read(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "docs", "getting-started.md")), heading);

    [RequiresTwoHostsFact]
    public async Task AgentAndMigrate_AsWritten_MoveTheVmToTheDestination()
    {
        IReadOnlyList<DocStep> steps = await SectionAsync("## Migrate a QEMU VM");
        Assert.Contains(steps, s => s.Host == DocHost.Destination && s.Command.StartsWith("secmig agent ", StringComparison.Ordinal));
        Assert.Contains(steps, s => s.Host == DocHost.Source && s.Command.StartsWith("secmig migrate ", StringComparison.Ordinal));
        await using DocRunner runner = await DocRunner.CreateAsync();

        await runner.RunAsync(steps);

        string migrate = Assert.Single(runner.Finished, f => f.Step.Command.StartsWith("secmig migrate ", StringComparison.Ordinal)).Output;
        Assert.Contains("result vm1 Completed", migrate, StringComparison.Ordinal);
        Assert.Equal("running", await DocRunner.StatusAsync(runner.DestinationVm!));
    }

    [RequiresTwoHostsFact]
    public async Task Tunnel_AsWritten_CarriesQemusMigrationToTheDestination()
    {
        IReadOnlyList<DocStep> steps = await SectionAsync("## Secure any hypervisor's migration with the tunnel");
        Assert.Contains(steps, s => s.Host == DocHost.Destination && s.Command.StartsWith("secmig tunnel accept ",
            StringComparison.Ordinal));
        Assert.Contains(steps, s => s.Host == DocHost.Source && s.Command.StartsWith("secmig tunnel connect ", StringComparison.Ordinal));
        await using DocRunner runner = await DocRunner.CreateAsync();

        await runner.RunAsync(steps);

        Assert.Contains(runner.Finished, f => f.Step.Command.StartsWith("# in the QEMU monitor:", StringComparison.Ordinal));
        Assert.Equal("running", await DocRunner.StatusAsync(runner.DestinationVm!));
        Assert.Equal("postmigrate", await DocRunner.StatusAsync(runner.SourceVm!));
    }
}
