using SecureMigration.Fuzz;
using SharpFuzz;

// fuzz/run drives this program; see docs/fuzzing.md.
//   TARGET               under afl-fuzz: the fuzzing loop (out of process, so a hang or a stack overflow is recorded too)
//   TARGET FILE...       runs the target once per file and says what happened (reproduces a crash)
//   --seeds DIR          writes every target's seed corpus to DIR/TARGET/
//   --list               the targets' names
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: SecureMigration.Fuzz TARGET [FILE...] | --seeds DIR | --list");
    return 2;
}

if (args[0] == "--list")
{
    Console.WriteLine(string.Join('\n', TargetCatalog.All.Select(t => t.Name)));
    return 0;
}

if (args[0] == "--seeds" && args.Length == 2)
{
    foreach (FuzzTarget each in TargetCatalog.All)
    {
        string folder = Directory.CreateDirectory(Path.Combine(args[1], each.Name)).FullName;
        foreach ((string name, byte[] bytes) in each.Seeds())
        {
            each.Run(bytes);
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }
    }

    return 0;
}

if (TargetCatalog.Find(args[0]) is not { } target)
{
    Console.Error.WriteLine($"No target '{args[0]}'; the targets are: {string.Join(", ", TargetCatalog.All.Select(t => t.Name))}.");
    return 2;
}

if (args.Length > 1)
{
    int failed = 0;
    foreach (string file in args.Skip(1))
    {
        try
        {
            target.Run(File.ReadAllBytes(file));
            Console.WriteLine($"{file}: ok");
        }
#pragma warning disable CA1031 // Replay reports every failure, whatever its type.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failed++;
            Console.WriteLine($"{file}: {e}");
        }
    }

    return failed == 0 ? 0 : 1;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target.Run(buffer.ToArray());
});
return 0;
