// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "eddy",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "eddy", targets: ["eddy"]),
        .library(name: "Eddy", targets: ["Eddy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "CEddySupport"),
        .target(
            name: "Eddy",
            dependencies: ["CEddySupport", "RocksStore"],
            swiftSettings: [
                // Each worker's state is touched by one thread at a time (checked by tests);
                // dynamic exclusivity checks on class properties cost several percent per event.
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
            ]
        ),
        .executableTarget(
            name: "eddy",
            dependencies: [
                "Eddy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "EddyTests", dependencies: ["Eddy"]),
        // The RocksDB C API. Only RocksStore imports it.
        .systemLibrary(
            name: "CRocksDB",
            path: "Sources/CRocksDB",
            pkgConfig: "rocksdb",
            providers: [.apt(["librocksdb-dev"])]
        ),
        // Typed, throwing Swift wrapper over CRocksDB: the one place that touches the C API.
        .target(name: "RocksStore", dependencies: ["CRocksDB"]),
        .testTarget(name: "RocksStoreTests", dependencies: ["RocksStore"]),
    ],
    swiftLanguageModes: [.v6]
)
