import ArgumentParser
import FFCol
import FFColConvert

struct FFColCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ffcol",
        abstract: "Convert Polygon/Massive flat files to columnar .ffc files and scan them.",
        subcommands: [SynthCommand.self])
}

FFColCommand.main()
