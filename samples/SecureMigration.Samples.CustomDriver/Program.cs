using SecureMigration.Samples.CustomDriver;

// Usage: dotnet run --project samples/SecureMigration.Samples.CustomDriver [WORK_DIRECTORY]
string work = args.Length > 0 ? args[0] : Directory.CreateTempSubdirectory("secmig-sample-").FullName;
Console.WriteLine($"working in {work}");
return await TwoHostMigration.RunAsync(work, Console.Out) ? 0 : 1;
