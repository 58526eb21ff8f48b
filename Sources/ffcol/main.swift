import ArgumentParser
import FFCol
import FFColConvert

struct FFColCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ffcol",
        abstract: "Convert Polygon/Massive flat files to columnar .ffc files and scan them.",
        discussion: """
        Typical use:
          ffcol synth --out flatfiles/                       generate a realistic options minute day
          ffcol convert flatfiles/ --out data                convert every .csv.gz under flatfiles/
          ffcol scan --root data --ticker SPY --limit 20     print bars
          ffcol verify data                                  check every checksum

        The default root comes from config/ffcol.yaml (key 'root'), else ./data.
        """,
        version: "\(Converter.version) (writes .ffc format \(FFCFormat.versionMajor).\(FFCFormat.versionMinor))",
        subcommands: [DemoCommand.self, SynthCommand.self, ConvertCommand.self, ScanCommand.self, InspectCommand.self,
                      VerifyCommand.self, DownloadCommand.self, IngestCommand.self, StatusCommand.self, CalendarCommand.self])
}

FFColCommand.main()
