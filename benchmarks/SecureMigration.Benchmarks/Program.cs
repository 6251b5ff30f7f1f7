using BenchmarkDotNet.Running;
using SecureMigration.Benchmarks.Throughput;

if (args.Length > 0 && args[0] == "throughput")
{
    return await ThroughputRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "sanitizer")
{
    return await SecureMigration.Benchmarks.Sanitization.SanitizerRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "sanitizer-device")
{
    return await SecureMigration.Benchmarks.Sanitization.DeviceBenchRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "sanitizer-phases")
{
    return await SecureMigration.Benchmarks.Sanitization.PhaseRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "sanitizer-datapath")
{
    return await SecureMigration.Benchmarks.Sanitization.DataPathProbe.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "listener-limits")
{
    return await SecureMigration.Benchmarks.Channel.ListenerLimitsRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "qemu-migration")
{
    return await SecureMigration.Benchmarks.Migration.QemuMigrationRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "monitor-floor")
{
    return await SecureMigration.Benchmarks.Agent.MonitorFloorRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "agent-latency")
{
    return await SecureMigration.Benchmarks.Agent.AgentLatencyRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "agent-load")
{
    return await SecureMigration.Benchmarks.Agent.AgentLoadRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "cluster-admission")
{
    return await SecureMigration.Benchmarks.Admission.ClusterAdmissionRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "coordination-phases")
{
    return await SecureMigration.Benchmarks.Coordination.PhaseTimelineRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "registry-commit")
{
    return await SecureMigration.Benchmarks.Coordination.RegistryCommitRunner.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(ThroughputRunner).Assembly).Run(args);
return 0;
