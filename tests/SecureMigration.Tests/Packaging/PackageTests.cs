using System.Globalization;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Packaging;

/// <summary>
/// The packages as users get them: packed from this repository into a temporary folder under a version of their own,
/// the tool installed from there into a temporary tool path and run, and a consumer project built against the library
/// package that opens a secure channel. Catches a package that builds here but is broken for its users.
/// </summary>
[Collection(nameof(RunsAloneCollection))]
public sealed class PackageTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Pack_ToolInstallsAndRuns_AndAConsumerOpensASecureChannel()
    {
        using var dir = new TempDirectory();
        string version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        string feed = dir.File("feed");
        try
        {
            foreach (string project in new[] { "src/SecureMigration", "src/SecureMigration.Qemu", "src/SecureMigration.Testing",
                "src/SecureMigration.Cli" })
            {
                await DotnetAsync(Repository.Root, "pack", Path.Combine(Repository.Root, project), "-c", "Release", "-o", feed,
                    "-p:Version=" + version);
            }

            Assert.True(File.Exists(Path.Combine(feed, $"SecureMigration.{version}.snupkg")), "the library's symbols package");
            string tools = dir.File("tools");
            await DotnetAsync(dir.Path, "tool", "install", "SecureMigration.Tool", "--version", version, "--tool-path", tools,
                "--add-source", feed);
            string secmig = Path.Combine(tools, "secmig");
            if (System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier == "linux-x64")
            {
                Assert.True(Directory.EnumerateDirectories(tools, "securemigration.tool.linux-x64", SearchOption.AllDirectories).Any(),
                    "on Linux x64 the ReadyToRun package of the tool is the one installed");
            }

            Assert.Contains(version, await RunAsync(dir.Path, secmig, "--version"));
            string unit = File.ReadAllText(Assert.Single(Directory.EnumerateFiles(tools, "secmig-agent.service",
                SearchOption.AllDirectories)));
            foreach (string line in new[] { "Type=notify", "User=secmig", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service",
                "ProtectProc=invisible", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
                "Environment=DOTNET_TieredCompilation=0" })
            {
                Assert.Contains(line, unit, StringComparison.Ordinal); // the hardened unit ships as docs/agent.md describes it
            }
            Assert.Contains("every defense held", await RunAsync(dir.Path, secmig, "demo", "--image-mib", "4", "--work", dir.File("demo")),
                StringComparison.OrdinalIgnoreCase);

            string consumer = WriteConsumer(dir.File("consumer"), feed, version);
            Assert.Contains("secure channel: 1 MiB delivered intact", await RunAsync(consumer, "dotnet", "run", "--project", consumer));

            // Trimmed, the library must raise no trim warning of its own and the consumer must still work.
            string trimmed = dir.File("trimmed");
            string publish = await DotnetAsync(consumer, "publish", consumer, "-c", "Release", "-r", "linux-x64", "--self-contained",
                "-p:PublishTrimmed=true", "-p:TrimmerSingleWarn=false", "-o", trimmed);
            Assert.DoesNotMatch(@"warning IL\d{4}: SecureMigration|Assembly 'SecureMigration", publish);
            Assert.Contains("secure channel: 1 MiB delivered intact", await RunAsync(consumer, Path.Combine(trimmed, "Consumer")));
        }
        finally
        {
            // The test versions are unique; do not leave them in the machine's package cache.
            foreach (string id in new[] { "securemigration", "securemigration.qemu", "securemigration.testing", "securemigration.tool" })
            {
                string cached = Path.Combine(PackageCache, id, version);
                if (Directory.Exists(cached))
                {
                    Directory.Delete(cached, recursive: true);
                }
            }
        }
    }

    private static string PackageCache => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } cache
        ? cache
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static Task<string> DotnetAsync(string workingDirectory, params string[] arguments) => RunAsync(workingDirectory, "dotnet",
        arguments);

    private static async Task<string> RunAsync(string workingDirectory, string program, params string[] arguments)
    {
        (int exit, string output) = await ProcessRunner.RunAsync(program, arguments, Patience, workingDirectory);
        Assert.True(exit == 0, $"{program} {string.Join(' ', arguments)} exited {exit}:\n{output}");
        return output;
    }

    /// <summary>A project outside this repository that references the packed library and sends data over a channel.</summary>
    private static string WriteConsumer(string directory, string feed, string version)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="SecureMigration" Version="{version}" />
                <PackageReference Include="SecureMigration.Testing" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="packed" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="packed"><package pattern="SecureMigration" /><package pattern="SecureMigration.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), """
            using System.Net;
            using SecureMigration.Channel;
            using SecureMigration.Identity;
            using SecureMigration.Channel.Tickets;
            using SecureMigration.Testing.Pki;

            CertificateAuthority ca = CertificateAuthority.Create("Consumer CA");
            X509ChannelCredentials Issue(string host)
            {
                IssuedCredential issued = ca.IssueHost(host, [IPAddress.Loopback]);
                return X509ChannelCredentials.FromPem(issued.CertificatePem, issued.PrivateKeyPem, ca.CertificatePem);
            }

            var destination = new SecureChannelFactory(new SecureChannelOptions { Credentials = Issue("dst.consumer") });
            await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), destination);
            listener.Start();
            var source = new SecureChannelFactory(new SecureChannelOptions { Credentials = Issue("src.consumer") });
            Task<ChannelConnection> connecting = source.ConnectAsync(listener.LocalEndPoint,
                MigrationTicket.Create("vm1", "src.consumer", "dst.consumer", 1, TimeSpan.FromMinutes(1)));
            await using ChannelConnection accepted = (await listener.AcceptAsync())!;
            await using ChannelConnection connection = await connecting;

            byte[] data = new byte[1024 * 1024];
            Random.Shared.NextBytes(data);
            await connection.Channel.Output.WriteAsync(data);
            await connection.Channel.Output.CompleteAsync();
            using var received = new MemoryStream();
            await accepted.Channel.Input.CopyToAsync(received);
            bool intact = received.ToArray().AsSpan().SequenceEqual(data);
            Console.WriteLine(intact ? "secure channel: 1 MiB delivered intact" : "secure channel: data differs");
            """);
        return directory;
    }
}
