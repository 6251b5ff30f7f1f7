namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// Tests that must not run beside others: those that observe the whole process (the meter's measurements, the bytes
/// every thread allocates), which parallel tests would add to, and packing, which compiles the tool ReadyToRun on
/// every core and would starve tests with tight timeouts. xUnit runs this collection after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(RunsAloneCollection), DisableParallelization = true)]
public sealed class RunsAloneCollection;
