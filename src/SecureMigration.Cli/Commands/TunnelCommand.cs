using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;
using SecureMigration.Channel;
using SecureMigration.Cli.Terminal;
using SecureMigration.Tunnel;

namespace SecureMigration.Cli.Commands;

internal static class TunnelCommand
{
    public static Command Create()
    {
        var tunnel = new Command("tunnel", """
            Wraps any hypervisor's TCP migration stream (QEMU, libvirt, Xen, Hyper-V) in a mutually authenticated
            TLS 1.3 channel. Run 'connect' on the source host and 'accept' on the destination host.
            """);
        tunnel.Subcommands.Add(Connect());
        tunnel.Subcommands.Add(Accept());
        return tunnel;
    }

    private static Command Connect()
    {
        var listen = new Option<EndPoint>("--listen")
        {
            Description = "Local address the hypervisor connects to: a loopback ADDRESS:PORT or unix:PATH (another address needs " +
                "--allow-remote-clients).",
            Required = true,
            CustomParser = EndPoints.ParseLocalListen,
        };
        var allowUser = new Option<int[]>("--allow-user")
        {
            Description = "A local user (name or uid) whose connections are carried, such as the user QEMU runs as; repeat for several. " +
                "Default: the user secmig runs as.",
            CustomParser = LocalUsers.Parse,
        };
        var allowRemote = new Option<bool>("--allow-remote-clients")
        {
            Description = "Listen on a non-loopback address too: every host that reaches it can then migrate under this host's " +
                "credentials.",
        };
        var remote = new Option<EndPoint>("--connect") { Description = "Address of the destination's 'secmig tunnel accept'.",
            Required = true, CustomParser = EndPoints.Parse };
        var peerName = new Option<string>("--peer-name") { Description = "The destination's identity: its certificate name (or its " +
            "--local-name with PSK).", Required = true };
        var vm = new Option<string>("--vm") { Description = "The VM id put in migration tickets.", DefaultValueFactory = _ => "tunnel" };
        var idle = IdleTimeout();
        var credentials = new CredentialOptions();
        var command = new Command("connect", """
            Source end: accepts the hypervisor's plain connections on --listen and carries each over its own secure
            channel to --connect. A connection whose channel cannot be established is reset; nothing leaves in
            plaintext. Only local users named with --allow-user (default: the user secmig runs as) may use it, since
            it carries their bytes under this host's credentials; it listens on loopback or a unix socket.

            Example:
              secmig tunnel connect --listen 127.0.0.1:4444 --connect dst.example:4443 --peer-name dst.example \
                --cert src/cert.pem --key src/key.pem --ca ca/ca.pem --allow-user libvirt-qemu
              qemu-system-x86_64 ... then (qemu) migrate tcp:127.0.0.1:4444
            """)
        { listen, remote, peerName, vm, idle, allowUser, allowRemote };
        credentials.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ILoggerFactory logging = ConsoleLogging.Create(LogLevel.Information);
            var factory = new SecureChannelFactory(credentials.Load(parse), logging);
            var options = new TunnelOptions
            {
                IdleTimeout = TimeSpan.FromSeconds(parse.GetValue(idle)),
                VmId = parse.GetValue(vm)!,
                AllowRemoteClients = parse.GetValue(allowRemote),
            };
            foreach (int uid in parse.GetValue(allowUser) ?? [])
            {
                options.AllowedLocalUsers.Add(uid);
            }

            await using var connector = new TunnelConnector(parse.GetValue(listen)!, parse.GetValue(remote)!, parse.GetValue(peerName)!,
                factory, options, logging);
            connector.Start();
            Console.WriteLine($"secmig tunnel: hypervisor connections to {connector.LocalEndPoint} go securely to " +
                $"{parse.GetValue(remote)}. Ctrl+C stops.");
            await WaitForStopAsync(cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Accept()
    {
        var listen = new Option<IPEndPoint>("--listen") { Description = "Address the source's tunnel connects to.", Required = true,
            CustomParser = EndPoints.ParseListen };
        var forward = new Option<EndPoint>("--forward") { Description = "The local hypervisor's migration address.", Required = true,
            CustomParser = EndPoints.Parse };
        var limits = new HandshakeLimitOptions();
        var allowAnyPeer = new Option<bool>("--allow-any-peer")
        {
            Description = "Serve every source the CA vouches for, instead of the ones named with --allow-peer: any host of the cluster " +
                "can then reach this hypervisor.",
        };
        var idle = IdleTimeout();
        var credentials = new CredentialOptions();
        var command = new Command("accept", """
            Destination end: authenticates each source, checks its ticket, and only then connects to --forward and
            relays. A refused peer never reaches the hypervisor; the refusal is logged with its reason. Only the
            sources named with --allow-peer (or pinned with --pin-spki) are served, unless --allow-any-peer is given.

            Example:
              secmig tunnel accept --listen 0.0.0.0:4443 --forward 127.0.0.1:4444 \
                --cert dst/cert.pem --key dst/key.pem --ca ca/ca.pem --allow-peer src.example
              qemu-system-x86_64 ... -incoming tcp:127.0.0.1:4444
            """)
        { listen, forward, idle, allowAnyPeer };
        credentials.AddTo(command);
        limits.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetResult(credentials.AllowPeer) is null && result.GetResult(credentials.PinSpki) is null &&
                result.GetResult(allowAnyPeer) is null)
            {
                result.AddError("Name the sources allowed to reach this hypervisor with --allow-peer NAME (repeat for several), or pass " +
                    "--allow-any-peer " +
                    "to serve every host the CA vouches for.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            using ILoggerFactory logging = ConsoleLogging.Create(LogLevel.Information);
            SecureChannelOptions channel = credentials.Load(parse);
            var factory = new SecureChannelFactory(channel, logging);
            SecureChannelListenerOptions limited = await limits.LoadAsync(parse, channel.PeerPolicy.AllowedPeers, cancellationToken);
            var options = new TunnelOptions { IdleTimeout = TimeSpan.FromSeconds(parse.GetValue(idle)),
                AllowAnyPeer = parse.GetValue(allowAnyPeer) };
            await using var acceptor =
                new TunnelAcceptor(parse.GetValue(listen)!, parse.GetValue(forward)!, factory, limited, options, logging);
            acceptor.Start();
            Console.WriteLine($"secmig tunnel: accepting secure channels on {acceptor.LocalEndPoint}, forwarding to " +
                $"{parse.GetValue(forward)}. Ctrl+C stops.");
            await WaitForStopAsync(cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Option<int> IdleTimeout()
    {
        var idle = new Option<int>("--idle-timeout") { Description = "Seconds a connection may carry no byte before it is reset.",
            DefaultValueFactory = _ => 300 };
        idle.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--idle-timeout must be at least 1 second.");
            }
        });
        return idle;
    }

    private static async Task WaitForStopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("secmig tunnel: stopping; open connections are reset.");
        }
    }
}
