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
        .target(name: "Eddy"),
        .executableTarget(
            name: "eddy",
            dependencies: [
                "Eddy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "EddyTests", dependencies: ["Eddy"]),
    ],
    swiftLanguageModes: [.v6]
)
