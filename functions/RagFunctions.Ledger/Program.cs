Console.Error.WriteLine("ledger: not implemented yet");
return 2;
